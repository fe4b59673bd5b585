#include "app/admin_client.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "app/config.h"
#include "http/client.h"

namespace mailmoat::app {

std::string query_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '@' || c == '*') {
      out += static_cast<char>(c);
    } else {
      constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string utc_time(long long micros) {
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  char buf[32];
  // Out of range for a calendar date: the raw number rather than a made-up time.
  if (gmtime_r(&t, &tm) == nullptr || std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0)
    return std::to_string(micros);
  return buf;
}

util::Result<std::string> admin_call_raw(const std::string& config_path, const std::vector<std::string>& overrides,
                                         const std::string& method, const std::string& target,
                                         const std::string& body) {
  LoadResult cfg = load_config(config_path, overrides);
  if (!cfg.ok()) return util::fail(cfg.errors.front().to_string());
  std::ifstream token_file(std::filesystem::path(cfg.config.server.data_dir) / "admin.token");
  std::string token;
  if (!token_file || !std::getline(token_file, token))
    return util::fail("cannot read " + cfg.config.server.data_dir +
                      "/admin.token (is this the gateway's data directory?)");
  auto r = http::request(cfg.config.http.listen, method, target, body, {"Authorization: Bearer " + token},
                         cfg.config.http.tls_cert);
  if (!r) return util::fail(r.error().message);
  if (r->status < 200 || r->status > 299) {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    return util::fail(!j.is_discarded() && j.contains("error") ? j["error"].get<std::string>()
                                                               : "HTTP " + std::to_string(r->status));
  }
  return std::move(r->body);
}

util::Result<nlohmann::json> admin_call(const std::string& config_path, const std::vector<std::string>& overrides,
                                        const std::string& method, const std::string& target, const std::string& body) {
  auto raw = admin_call_raw(config_path, overrides, method, target, body);
  if (!raw) return util::fail(raw.error().message);
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded()) return util::fail("the gateway answered something that is not JSON");
  return j;
}

}  // namespace mailmoat::app
