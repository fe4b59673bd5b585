// The smaller SQL stores: click trace, DMARC aggregate rows (counted per UTC
// day with an upsert, so identical results of many messages make one row),
// the audit log and key/value settings.
#include <algorithm>

#include "store/sql/pattern.h"
#include "store/sql/shared.h"
#include "util/strings.h"

namespace mailmoat::store::sql {
namespace {

class SqlClickStore final : public ClickStore {
 public:
  explicit SqlClickStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<std::int64_t> add(const ClickRecord& k) override {
    std::lock_guard lock(s_->mu);
    static const std::string kInsertReturningId = std::string(kInsert) + " RETURNING id";
    auto rows = s_->conn->query(kInsertReturningId, values(k));
    if (!rows) return std::unexpected(rows.error());
    return rows->at(0).integer(0);
  }

  util::Result<void> add_all(const std::vector<ClickRecord>& clicks) override {
    if (clicks.empty()) return {};
    std::lock_guard lock(s_->mu);
    return in_transaction(*s_->conn, [&]() -> util::Result<void> {
      for (const auto& k : clicks)
        if (auto done = s_->conn->exec(kInsert, values(k)); !done) return std::unexpected(done.error());
      return {};
    });
  }

  util::Result<Page<ClickRecord>> search(const ClickQuery& q) override {
    std::string where = "1=1";
    std::vector<Value> p;
    if (q.recipient) add_wildcard_match(where, p, "recipient_lc", "recipient_rev", *q.recipient);
    if (q.url_contains) {
      where += " AND url_lc LIKE ? ESCAPE '\\'";
      p.emplace_back("%" + escape_like(util::to_lower(*q.url_contains)) + "%");
    }
    if (q.since) where += " AND at >= ?", p.emplace_back(*q.since);
    if (!q.cursor.empty()) {
      auto cur = parse_cursor(q.cursor);
      if (!cur) return std::unexpected(cur.error());
      where += " AND id < ?";
      p.emplace_back(cur->second);
    }
    std::size_t limit = std::clamp<std::size_t>(q.limit, 1, 1000);
    p.emplace_back(static_cast<std::int64_t>(limit + 1));
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(
        "SELECT id, at, recipient, message_id, url, verdict, reasons, action, client_ip, user_agent FROM clicks "
        "WHERE " + where + " ORDER BY id DESC LIMIT ?",
        p);
    if (!rows) return std::unexpected(rows.error());
    Page<ClickRecord> page;
    for (std::size_t i = 0; i < rows->size() && i < limit; ++i) {
      const Row& r = (*rows)[i];
      ClickRecord k;
      k.id = r.integer(0);
      k.at = r.integer(1);
      k.recipient = r.text(2);
      k.message_id = r.text(3);
      k.url = r.text(4);
      k.verdict = r.text(5);
      k.reasons = split_lines(r.text(6));
      k.action = parse_click_action(r.text(7)).value_or(ClickAction::allowed);
      k.client_ip = r.text(8);
      k.user_agent = r.text(9);
      page.items.push_back(std::move(k));
    }
    if (rows->size() > limit) page.next_cursor = make_cursor(page.items.back().at, page.items.back().id);
    return page;
  }

  util::Result<std::int64_t> purge(Micros before) override {
    std::lock_guard lock(s_->mu);
    return s_->conn->exec("DELETE FROM clicks WHERE at < ?", {Value{before}});
  }

 private:
  static constexpr std::string_view kInsert =
      "INSERT INTO clicks (at, recipient, recipient_lc, recipient_rev, message_id, url, url_lc, verdict, reasons, "
      "action, client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  std::vector<Value> values(const ClickRecord& k) const {
    std::string lc = util::to_lower(k.recipient);
    std::string rev = reversed(lc);
    Micros at = k.at ? k.at : s_->clock->now();
    return {Value{at}, k.recipient, std::move(lc), std::move(rev), k.message_id, k.url, util::to_lower(k.url),
            k.verdict, join_lines(k.reasons), std::string(to_string(k.action)), k.client_ip, k.user_agent};
  }

  std::shared_ptr<Shared> s_;
};

constexpr const char* kDmarcColumns =
    "day, source_ip, header_from, envelope_from, spf_domain, spf_result, dkim_domain, dkim_selector, "
    "dkim_result, disposition, dmarc_dkim, dmarc_spf, count";

class SqlDmarcStore final : public DmarcStore {
 public:
  explicit SqlDmarcStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<void> add(const DmarcRow& d) override {
    if (d.count <= 0) return util::fail("DMARC row count must be positive");
    std::lock_guard lock(s_->mu);
    auto r = s_->conn->exec(
        std::string("INSERT INTO dmarc_rows (") + kDmarcColumns +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (header_from, day, source_ip, envelope_from, spf_domain, spf_result, dkim_domain, "
            "dkim_selector, dkim_result, disposition, dmarc_dkim, dmarc_spf) "
            "DO UPDATE SET count = dmarc_rows.count + excluded.count",
        {Value{d.day}, d.source_ip, util::to_lower(d.header_from), d.envelope_from, d.spf_domain, d.spf_result,
         d.dkim_domain, d.dkim_selector, d.dkim_result, d.disposition, d.dmarc_dkim, d.dmarc_spf, Value{d.count}});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  util::Result<std::vector<std::string>> domains(std::int64_t first_day, std::int64_t last_day) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(
        "SELECT DISTINCT header_from FROM dmarc_rows WHERE day >= ? AND day <= ? ORDER BY header_from",
        {Value{first_day}, Value{last_day}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> out;
    for (const auto& r : *rows) out.push_back(r.text(0));
    return out;
  }

  util::Result<std::vector<DmarcRow>> rows(const std::string& header_from, std::int64_t first_day,
                                           std::int64_t last_day) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(std::string("SELECT ") + kDmarcColumns +
                                    " FROM dmarc_rows WHERE header_from = ? AND day >= ? AND day <= ? "
                                    "ORDER BY day, source_ip, count DESC",
                                {util::to_lower(header_from), Value{first_day}, Value{last_day}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<DmarcRow> out;
    for (const auto& r : *rows) {
      DmarcRow d;
      d.day = r.integer(0);
      d.source_ip = r.text(1);
      d.header_from = r.text(2);
      d.envelope_from = r.text(3);
      d.spf_domain = r.text(4);
      d.spf_result = r.text(5);
      d.dkim_domain = r.text(6);
      d.dkim_selector = r.text(7);
      d.dkim_result = r.text(8);
      d.disposition = r.text(9);
      d.dmarc_dkim = r.text(10);
      d.dmarc_spf = r.text(11);
      d.count = r.integer(12);
      out.push_back(std::move(d));
    }
    return out;
  }

  util::Result<std::int64_t> purge(std::int64_t before_day) override {
    std::lock_guard lock(s_->mu);
    return s_->conn->exec("DELETE FROM dmarc_rows WHERE day < ?", {Value{before_day}});
  }

 private:
  std::shared_ptr<Shared> s_;
};

class SqlAuditLog final : public AuditLog {
 public:
  explicit SqlAuditLog(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<std::int64_t> append(const AuditEntry& a) override {
    Micros at = a.at ? a.at : s_->clock->now();
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?) RETURNING id",
        {Value{at}, a.actor, a.action, a.target, a.detail});
    if (!rows) return std::unexpected(rows.error());
    return rows->at(0).integer(0);
  }

  util::Result<std::vector<AuditEntry>> list(Micros since, std::size_t limit) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(
        "SELECT id, at, actor, action, target, detail FROM audit_log WHERE at >= ? ORDER BY at DESC, id DESC LIMIT ?",
        {Value{since}, Value{static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 10000))}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<AuditEntry> out;
    for (const auto& r : *rows)
      out.push_back(AuditEntry{r.integer(0), r.integer(1), r.text(2), r.text(3), r.text(4), r.text(5)});
    return out;
  }

 private:
  std::shared_ptr<Shared> s_;
};

class SqlSettings final : public Settings {
 public:
  explicit SqlSettings(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<std::optional<std::string>> get(const std::string& key) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query("SELECT value FROM settings WHERE key = ?", {key});
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<std::string>{};
    return std::optional<std::string>{rows->front().text(0)};
  }

  util::Result<void> set(const std::string& key, const std::string& value) override {
    std::lock_guard lock(s_->mu);
    auto r = s_->conn->exec(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {key, value});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  util::Result<bool> claim(const std::string& key, const std::string& value) override {
    std::lock_guard lock(s_->mu);
    auto n = s_->conn->exec("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                            {key, value});
    if (!n) return std::unexpected(n.error());
    return *n == 1;
  }

  util::Result<void> erase(const std::string& key) override {
    std::lock_guard lock(s_->mu);
    auto r = s_->conn->exec("DELETE FROM settings WHERE key = ?", {key});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  util::Result<std::vector<std::pair<std::string, std::string>>> all() override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query("SELECT key, value FROM settings ORDER BY key", {});
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : *rows) out.emplace_back(r.text(0), r.text(1));
    return out;
  }

 private:
  std::shared_ptr<Shared> s_;
};

}  // namespace

std::unique_ptr<ClickStore> make_click_store(std::shared_ptr<Shared> s) {
  return std::make_unique<SqlClickStore>(std::move(s));
}
std::unique_ptr<DmarcStore> make_dmarc_store(std::shared_ptr<Shared> s) {
  return std::make_unique<SqlDmarcStore>(std::move(s));
}
std::unique_ptr<AuditLog> make_audit_log(std::shared_ptr<Shared> s) { return std::make_unique<SqlAuditLog>(std::move(s)); }
std::unique_ptr<Settings> make_settings(std::shared_ptr<Shared> s) { return std::make_unique<SqlSettings>(std::move(s)); }

}  // namespace mailmoat::store::sql
