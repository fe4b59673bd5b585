// TLS-RPT session results (RFC 8460) in SQL, counted per UTC day with an
// upsert like the DMARC rows: identical results of many sessions make one row.
#include "store/sql/shared.h"
#include "util/strings.h"

namespace mailmoat::store::sql {
namespace {

constexpr const char* kColumns =
    "day, policy_domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx, receiving_ip, "
    "reason, count";

class SqlTlsRptStore final : public TlsRptStore {
 public:
  explicit SqlTlsRptStore(std::shared_ptr<Shared> s) : s_(std::move(s)) {}

  util::Result<void> add(const TlsRptRow& t) override {
    if (t.count <= 0) return util::fail("TLS-RPT row count must be positive");
    if (t.policy_domain.empty()) return util::fail("TLS-RPT row without a policy domain");
    std::lock_guard lock(s_->mu);
    auto r = s_->conn->exec(
        std::string("INSERT INTO tlsrpt_rows (") + kColumns +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (policy_domain, day, policy_type, policy_string, mx_host, result_type, sending_ip, "
            "receiving_mx, receiving_ip, reason) DO UPDATE SET count = tlsrpt_rows.count + excluded.count",
        {Value{t.day}, util::to_lower(t.policy_domain), t.policy_type, t.policy_string, t.mx_host, t.result_type,
         t.sending_ip, t.receiving_mx, t.receiving_ip, t.reason, Value{t.count}});
    if (!r) return std::unexpected(r.error());
    return {};
  }

  util::Result<std::vector<std::string>> domains(std::int64_t day) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query("SELECT DISTINCT policy_domain FROM tlsrpt_rows WHERE day = ? ORDER BY policy_domain",
                                {Value{day}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<std::string> out;
    for (const auto& r : *rows) out.push_back(r.text(0));
    return out;
  }

  util::Result<std::vector<TlsRptRow>> rows(const std::string& policy_domain, std::int64_t day) override {
    std::lock_guard lock(s_->mu);
    auto rows = s_->conn->query(std::string("SELECT ") + kColumns +
                                    " FROM tlsrpt_rows WHERE policy_domain = ? AND day = ? "
                                    "ORDER BY policy_type, policy_string, result_type, receiving_mx, receiving_ip",
                                {util::to_lower(policy_domain), Value{day}});
    if (!rows) return std::unexpected(rows.error());
    std::vector<TlsRptRow> out;
    for (const auto& r : *rows) {
      TlsRptRow t;
      t.day = r.integer(0);
      t.policy_domain = r.text(1);
      t.policy_type = r.text(2);
      t.policy_string = r.text(3);
      t.mx_host = r.text(4);
      t.result_type = r.text(5);
      t.sending_ip = r.text(6);
      t.receiving_mx = r.text(7);
      t.receiving_ip = r.text(8);
      t.reason = r.text(9);
      t.count = r.integer(10);
      out.push_back(std::move(t));
    }
    return out;
  }

  util::Result<std::int64_t> purge(std::int64_t before_day) override {
    std::lock_guard lock(s_->mu);
    return s_->conn->exec("DELETE FROM tlsrpt_rows WHERE day < ?", {Value{before_day}});
  }

 private:
  std::shared_ptr<Shared> s_;
};

}  // namespace

std::unique_ptr<TlsRptStore> make_tlsrpt_store(std::shared_ptr<Shared> s) {
  return std::make_unique<SqlTlsRptStore>(std::move(s));
}

}  // namespace mailmoat::store::sql
