#include "tls/tlsrpt_report.h"

#include <cstdio>
#include <map>
#include <tuple>

#include "util/strings.h"

namespace mailmoat::tls {

namespace {

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          (void)std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string string_array(const std::string& lines) {
  std::string out = "[";
  bool first = true;
  for (auto line : util::split(lines, '\n')) {
    if (line.empty()) continue;
    out += (first ? "" : ", ") + quote(line);
    first = false;
  }
  return out + "]";
}

// RFC 3339 date-time of a UTC day's start plus `seconds`.
std::string datetime(std::int64_t day, std::int64_t seconds) {
  // Days since the epoch to a civil date (H. Hinnant's algorithm).
  std::int64_t z = day + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[128];  // sized for any int64 so the format cannot truncate
  (void)std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(seconds / 3600),
                static_cast<long long>(seconds / 60 % 60), static_cast<long long>(seconds % 60));
  return buf;
}

struct PolicyTotals {
  std::int64_t ok = 0, failed = 0;
  // (result type, sending ip, receiving mx, receiving ip, reason) -> sessions
  std::map<std::tuple<std::string, std::string, std::string, std::string, std::string>, std::int64_t> failures;
};

}  // namespace

std::string tlsrpt_json(const TlsRptMeta& meta, const std::string& policy_domain, const std::vector<TlsRptResult>& rows) {
  // One "policies" entry per distinct policy (type, text, mx patterns) seen that day.
  std::map<std::tuple<std::string, std::string, std::string>, PolicyTotals> policies;
  for (const auto& r : rows) {
    if (r.policy_domain != policy_domain || r.count <= 0) continue;
    auto& p = policies[{r.policy_type, r.policy_string, r.mx_host}];
    if (r.result_type.empty()) {
      p.ok += r.count;
    } else {
      p.failed += r.count;
      p.failures[{r.result_type, r.sending_ip, r.receiving_mx, r.receiving_ip, r.reason}] += r.count;
    }
  }
  std::string out = "{\n  \"organization-name\": " + quote(meta.organization) + ",\n  \"date-range\": {\"start-datetime\": " +
                    quote(datetime(meta.day, 0)) + ", \"end-datetime\": " + quote(datetime(meta.day, 86399)) +
                    "},\n  \"contact-info\": " + quote(meta.contact) + ",\n  \"report-id\": " + quote(meta.report_id) +
                    ",\n  \"policies\": [";
  bool first_policy = true;
  for (const auto& [key, totals] : policies) {
    const auto& [type, text, mx] = key;
    out += std::string(first_policy ? "" : ",") + "\n    {\"policy\": {\"policy-type\": " + quote(type) +
           ", \"policy-string\": " + string_array(text) + ", \"policy-domain\": " + quote(policy_domain);
    if (!mx.empty()) out += ", \"mx-host\": " + string_array(mx);
    out += "},\n     \"summary\": {\"total-successful-session-count\": " + std::to_string(totals.ok) +
           ", \"total-failure-session-count\": " + std::to_string(totals.failed) + "}";
    if (!totals.failures.empty()) {
      out += ",\n     \"failure-details\": [";
      bool first = true;
      for (const auto& [f, n] : totals.failures) {
        const auto& [result, sending, mx_name, ip, reason] = f;
        out += std::string(first ? "" : ",") + "\n       {\"result-type\": " + quote(result);
        if (!sending.empty()) out += ", \"sending-mta-ip\": " + quote(sending);
        if (!mx_name.empty()) out += ", \"receiving-mx-hostname\": " + quote(mx_name);
        if (!ip.empty()) out += ", \"receiving-ip\": " + quote(ip);
        out += ", \"failed-session-count\": " + std::to_string(n);
        if (!reason.empty()) out += ", \"failure-reason-code\": " + quote(reason);
        out += "}";
        first = false;
      }
      out += "]";
    }
    out += "}";
    first_policy = false;
  }
  return out + "\n  ]\n}\n";
}

std::string tlsrpt_filename(const std::string& sender, const std::string& policy_domain, std::int64_t day,
                            const std::string& unique_id) {
  const std::int64_t begin = day * 86400;
  std::string name = sender + "!" + policy_domain + "!" + std::to_string(begin) + "!" + std::to_string(begin + 86399);
  if (!unique_id.empty()) name += "!" + unique_id;
  return name + ".json.gz";
}

}  // namespace mailmoat::tls
