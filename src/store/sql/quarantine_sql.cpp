// QuarantineStore over SQL. The message bytes live in the row (BLOB/BYTEA)
// unless the caller keeps them in the spool; recipients are also kept one per
// row in quarantine_recipients so a recipient search uses an index. Release
// and delete are state changes checked inside one transaction, so two admins
// (or two nodes) cannot release the same item twice.
#include <algorithm>

#include "store/sql/deflate.h"
#include "store/sql/pattern.h"
#include "store/sql/shared.h"
#include "util/strings.h"

namespace mailmoat::store::sql {
namespace {

constexpr const char* kColumns =
    "id, queue_id, reason, policy, sender, recipients, subject, size, created_at, expires_at, spool_path, "
    "state, state_changed_at, state_changed_by, released_to";

QuarantineItem item_from(const Row& r) {
  QuarantineItem q;
  q.id = r.integer(0);
  q.queue_id = r.text(1);
  q.reason = r.text(2);
  q.policy = r.text(3);
  q.sender = r.text(4);
  q.recipients = split_lines(r.text(5));
  q.subject = r.text(6);
  q.size = r.integer(7);
  q.created_at = r.integer(8);
  q.expires_at = r.integer(9);
  q.spool_path = r.text(10);
  q.state = parse_quarantine_state(r.text(11)).value_or(QuarantineState::held);
  q.state_changed_at = r.integer(12);
  q.state_changed_by = r.text(13);
  q.released_to = split_lines(r.text(14));
  return q;
}

class SqlQuarantineStore final : public QuarantineStore {
 public:
  explicit SqlQuarantineStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<std::int64_t> put(const QuarantineItem& item) override {
    for (const auto& r : item.recipients)
      if (r.find('\n') != std::string::npos) return util::fail("recipient contains a line break");
    std::lock_guard lock(s_->mu);
    Connection& c = *s_->conn;
    return in_transaction(c, [&]() -> util::Result<std::int64_t> {
      std::string sender_lc = util::to_lower(item.sender);
      auto rows = c.query(
          "INSERT INTO quarantine (queue_id, reason, policy, sender, sender_lc, sender_rev, recipients, subject, "
          "size, created_at, expires_at, raw, raw_encoding, spool_path, state, state_changed_at, state_changed_by, "
          "released_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'deflate', ?, 'held', ?, '', '') RETURNING id",
          {item.queue_id, item.reason, item.policy, item.sender, sender_lc, reversed(sender_lc),
           join_lines(item.recipients), item.subject, Value{item.size}, Value{item.created_at},
           Value{item.expires_at}, item.spool_path.empty() ? Value{Blob{deflate_bytes(item.raw)}} : Value{nullptr},
           item.spool_path, Value{item.created_at}});
      if (!rows) return std::unexpected(rows.error());
      std::int64_t id = rows->at(0).integer(0);
      for (const auto& r : item.recipients) {
        std::string lc = util::to_lower(r);
        auto ins = c.exec("INSERT INTO quarantine_recipients (item_id, recipient_lc, recipient_rev) VALUES (?, ?, ?)",
                          {Value{id}, lc, reversed(lc)});
        if (!ins) return std::unexpected(ins.error());
      }
      return id;
    });
  }

  util::Result<std::optional<QuarantineItem>> get(std::int64_t id) override {
    std::lock_guard lock(s_->mu);
    return get_locked(id);
  }

  util::Result<Page<QuarantineItem>> list(const QuarantineQuery& q) override {
    std::string where = "1=1";
    std::vector<Value> p;
    if (q.state) where += " AND state = ?", p.emplace_back(std::string(to_string(*q.state)));
    if (q.reason) where += " AND reason = ?", p.emplace_back(*q.reason);
    if (q.sender) add_wildcard_match(where, p, "sender_lc", "sender_rev", *q.sender);
    if (q.recipient) {
      std::string sub = "1=1";
      add_wildcard_match(sub, p, "recipient_lc", "recipient_rev", *q.recipient);
      where += " AND id IN (SELECT item_id FROM quarantine_recipients WHERE " + sub + ")";
    }
    if (q.since) where += " AND created_at >= ?", p.emplace_back(*q.since);
    if (q.until) where += " AND created_at < ?", p.emplace_back(*q.until);
    if (!q.cursor.empty()) {
      auto cur = parse_cursor(q.cursor);
      if (!cur) return std::unexpected(cur.error());
      where += " AND (created_at < ? OR (created_at = ? AND id < ?))";
      p.emplace_back(cur->first);
      p.emplace_back(cur->first);
      p.emplace_back(cur->second);
    }
    std::size_t limit = std::clamp<std::size_t>(q.limit, 1, 1000);
    p.emplace_back(static_cast<std::int64_t>(limit + 1));
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(std::string("SELECT ") + kColumns + " FROM quarantine WHERE " + where +
                                    " ORDER BY created_at DESC, id DESC LIMIT ?",
                                p);
    if (!rows) return std::unexpected(rows.error());
    Page<QuarantineItem> page;
    for (std::size_t i = 0; i < rows->size() && i < limit; ++i) page.items.push_back(item_from((*rows)[i]));
    if (rows->size() > limit) page.next_cursor = make_cursor(page.items.back().created_at, page.items.back().id);
    return page;
  }

  util::Result<QuarantineItem> release(std::int64_t id, const std::string& by,
                                       const std::vector<std::string>& to) override {
    std::lock_guard lock(s_->mu);
    Connection& c = *s_->conn;
    return in_transaction(c, [&]() -> util::Result<QuarantineItem> {
      auto item = get_locked(id, /*for_update=*/true);
      if (!item) return std::unexpected(item.error());
      if (!*item) return util::fail("quarantine item " + std::to_string(id) + " does not exist");
      QuarantineItem q = std::move(**item);
      if (q.state != QuarantineState::held)
        return util::fail("quarantine item " + std::to_string(id) + " is already " + std::string(to_string(q.state)));
      std::vector<std::string> targets = to.empty() ? q.recipients : to;
      for (const auto& t : targets) {
        bool known = std::any_of(q.recipients.begin(), q.recipients.end(),
                                 [&](const std::string& r) { return util::iequals(r, t); });
        if (!known) return util::fail("\"" + t + "\" is not a recipient of quarantine item " + std::to_string(id));
      }
      Micros now = s_->clock->now();
      auto r = c.exec(
          "UPDATE quarantine SET state = 'released', state_changed_at = ?, state_changed_by = ?, released_to = ? "
          "WHERE id = ? AND state = 'held'",
          {Value{now}, by, join_lines(targets), Value{id}});
      if (!r) return std::unexpected(r.error());
      if (*r != 1) return util::fail("quarantine item " + std::to_string(id) + " changed while releasing it");
      q.state = QuarantineState::released;
      q.state_changed_at = now;
      q.state_changed_by = by;
      q.released_to = std::move(targets);
      return q;
    });
  }

  util::Result<void> remove(std::int64_t id, const std::string& by) override {
    std::lock_guard lock(s_->mu);
    auto r = s_->conn->exec(
        "UPDATE quarantine SET state = 'deleted', raw = NULL, state_changed_at = ?, state_changed_by = ? "
        "WHERE id = ? AND state <> 'deleted'",
        {Value{s_->clock->now()}, by, Value{id}});
    if (!r) return std::unexpected(r.error());
    if (*r != 1) return util::fail("quarantine item " + std::to_string(id) + " does not exist or is already deleted");
    return {};
  }

  util::Result<std::int64_t> purge_expired(Micros now) override {
    std::lock_guard lock(s_->mu);
    Connection& c = *s_->conn;
    return in_transaction(c, [&]() -> util::Result<std::int64_t> {
      auto r = c.exec("DELETE FROM quarantine_recipients WHERE item_id IN (SELECT id FROM quarantine WHERE expires_at < ?)",
                      {Value{now}});
      if (!r) return r;
      return c.exec("DELETE FROM quarantine WHERE expires_at < ?", {Value{now}});
    });
  }

 private:
  util::Result<std::optional<QuarantineItem>> get_locked(std::int64_t id, bool for_update = false) {
    std::string sql = std::string("SELECT ") + kColumns + ", raw, raw_encoding FROM quarantine WHERE id = ?";
    if (for_update && s_->conn->dialect() == Dialect::postgresql) sql += " FOR UPDATE";
    auto rows = s_->conn->query(sql, {Value{id}});
    if (!rows) return std::unexpected(rows.error());
    if (rows->empty()) return std::optional<QuarantineItem>{};
    const Row& row = rows->front();
    QuarantineItem item = item_from(row);
    if (!row.is_null(15)) {
      if (row.text(16) == "deflate") {
        auto raw = inflate_bytes(row.text(15));
        if (!raw) return util::fail("quarantine item " + std::to_string(id) + ": " + raw.error().message);
        item.raw = std::move(*raw);
      } else {
        item.raw = row.text(15);
      }
    }
    return std::optional<QuarantineItem>{std::move(item)};
  }

  std::shared_ptr<Shared> s_;
};

}  // namespace

std::unique_ptr<QuarantineStore> make_quarantine_store(std::shared_ptr<Shared> s) {
  return std::make_unique<SqlQuarantineStore>(std::move(s));
}

}  // namespace mailmoat::store::sql
