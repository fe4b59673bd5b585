#include "app/api_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "app/accounts.h"
#include "app/api_support.h"
#include "log/log.h"
#include "store/stores.h"
#include "util/lookup.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

constexpr std::string_view kPrefix = "api_token/";

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view s) {
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  return hex(md, len);
}

bool valid_name(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

// A browser sends Origin (and Sec-Fetch-Site) with cross-site requests; the
// admin API is never the target of one.
bool cross_site(const http::Request& req) {
  if (req.header("Sec-Fetch-Site") == "cross-site") return true;
  std::string origin = req.header("Origin");
  if (origin.empty() || origin == "null") return !origin.empty();
  auto scheme = origin.find("://");
  std::string host = scheme == std::string::npos ? origin : origin.substr(scheme + 3);
  return !util::iequals(host, req.header("Host"));
}

}  // namespace

bool cross_site_request(const http::Request& request) { return cross_site(request); }

std::string_view to_string(Role r) { return r == Role::admin ? "admin" : "viewer"; }

std::optional<Role> parse_role(std::string_view s) {
  if (s == "admin") return Role::admin;
  if (s == "viewer") return Role::viewer;
  return std::nullopt;
}

ApiAuth::ApiAuth(std::string bootstrap_token, store::Settings& settings, store::AuditLog& audit)
    : bootstrap_(std::move(bootstrap_token)), settings_(settings), audit_(audit) {}

void ApiAuth::audit(const Principal& who, const std::string& action, const std::string& target,
                    const std::string& detail) const {
  store::AuditEntry e;
  e.at = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
             .count();
  e.actor = who.name;
  e.action = action;
  e.target = target;
  e.detail = detail;
  if (auto r = audit_.append(e); !r)
    log::error("audit.write_failed", {{"action", action}, {"target", target}, {"error", r.error().message}});
}

std::optional<Principal> ApiAuth::identify(const std::string& presented) const {
  if (presented.size() == bootstrap_.size() &&
      CRYPTO_memcmp(presented.data(), bootstrap_.data(), bootstrap_.size()) == 0)
    return Principal{"admin-token", Role::admin};
  if (presented.size() < 32 || presented.size() > 256) return std::nullopt;
  // Looked up by hash: the presented token is never compared byte by byte.
  auto stored = settings_.get(std::string(kPrefix) + sha256_hex(presented));
  const std::string* text = util::found(stored);
  if (!text) return std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto role = parse_role(j.value("role", ""));
  if (!role) return std::nullopt;
  return Principal{"token:" + j.value("name", ""), *role};
}

std::variant<Principal, http::Response> ApiAuth::check(const http::Request& req, Role needed) const {
  if (cross_site(req)) return api_error(403, "cross-site request refused");
  std::string h = req.header("Authorization");
  const std::string prefix = "Bearer ";
  if (h.empty() && accounts_ && !session_cookie(req).empty()) return check_session(req, needed);
  if (!h.starts_with(prefix)) return api_error(401, "authentication required");
  auto who = identify(h.substr(prefix.size()));
  if (!who) return api_error(401, "authentication required");
  if (needed == Role::admin && who->role != Role::admin)
    return api_error(403, "this action needs the admin role");
  return *who;
}

std::variant<Principal, http::Response> ApiAuth::check_session(const http::Request& req, Role needed) const {
  auto session = accounts_->find_session(session_cookie(req));
  if (!session) return api_error(401, "session expired or unknown; sign in again");
  // SameSite=Strict already keeps other sites' requests from carrying the
  // cookie; the token is the second lock for every state change.
  const bool safe = req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS";
  if (!safe) {
    std::string presented = req.header("X-CSRF-Token");
    if (presented.size() != session->csrf.size() ||
        CRYPTO_memcmp(presented.data(), session->csrf.data(), presented.size()) != 0)
      return api_error(403, "missing or wrong X-CSRF-Token for this session");
  }
  if (needed == Role::admin && session->role != Role::admin)
    return api_error(403, "this action needs the admin role");
  return Principal{"user:" + session->user, session->role};
}

util::Result<std::string> ApiAuth::create(const std::string& name, Role role, const std::string& created_by) {
  if (!valid_name(name)) return util::fail("a token name is 1-64 letters, digits, '-', '_' or '.'");
  auto existing = list();
  if (!existing) return util::fail(existing.error().message);
  for (const auto& t : *existing)
    if (t.name == name) return util::fail("a token named \"" + name + "\" exists; revoke it first");
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return util::fail("cannot generate a token");
  std::string token = "mmt_" + hex(raw, sizeof raw);
  const long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  nlohmann::json j{{"name", name}, {"role", std::string(to_string(role))}, {"created_at", now},
                   {"created_by", created_by}};
  if (auto r = settings_.set(std::string(kPrefix) + sha256_hex(token), j.dump()); !r) return util::fail(r.error().message);
  return token;
}

util::Result<std::vector<TokenInfo>> ApiAuth::list() const {
  auto all = settings_.all();
  if (!all) return util::fail(all.error().message);
  std::vector<TokenInfo> out;
  for (const auto& [key, value] : *all) {
    if (!key.starts_with(kPrefix)) continue;
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    TokenInfo t;
    t.name = j.value("name", "");
    t.role = parse_role(j.value("role", "")).value_or(Role::viewer);
    t.created_at = j.value("created_at", 0ll);
    t.created_by = j.value("created_by", "");
    out.push_back(std::move(t));
  }
  return out;
}

util::Result<void> ApiAuth::revoke(const std::string& name) {
  auto all = settings_.all();
  if (!all) return util::fail(all.error().message);
  for (const auto& [key, value] : *all) {
    if (!key.starts_with(kPrefix)) continue;
    auto j = nlohmann::json::parse(value, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.value("name", "") == name) return settings_.erase(key);
  }
  return util::fail("no token named \"" + name + "\"");
}

http::Handler guarded(const ApiAuth& auth, Role needed, GuardedHandler handler) {
  return [&auth, needed, handler = std::move(handler)](const http::Request& req) {
    auto who = auth.check(req, needed);
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    return handler(req, std::get<Principal>(who));
  };
}

void add_token_routes(http::Router& router, ApiAuth& auth) {
  router.add("GET", "/api/v1/tokens", [&auth](const http::Request& req) {
    auto who = auth.check(req, Role::admin);
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    auto tokens = auth.list();
    if (!tokens) return api_error(500, tokens.error().message);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : *tokens)
      list.push_back({{"name", t.name}, {"role", std::string(to_string(t.role))}, {"created_at", t.created_at},
                      {"created_by", t.created_by}});
    return http::Response::json(200, nlohmann::json{{"tokens", list}}.dump());
  });
  router.add("POST", "/api/v1/tokens", [&auth](const http::Request& req) {
    auto who = auth.check(req, Role::admin);
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    auto body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
    for (auto& [k, v] : body.items())
      if ((k != "name" && k != "role") || !v.is_string()) return api_error(400, "unknown or invalid field \"" + k + "\"");
    auto role = parse_role(body.value("role", ""));
    if (!role) return api_error(400, "role must be admin or viewer");
    auto token = auth.create(body.value("name", ""), *role, std::get<Principal>(who).name);
    if (!token) return api_error(400, token.error().message);
    auth.audit(std::get<Principal>(who), "token.create", "token/" + body.value("name", ""),
               "role=" + std::string(to_string(*role)));
    return http::Response::json(200, nlohmann::json{{"name", body.value("name", "")},
                                                    {"role", std::string(to_string(*role))},
                                                    {"token", *token}}.dump());
  });
  router.add_prefix("POST", "/api/v1/tokens/", [&auth](const http::Request& req) {
    auto who = auth.check(req, Role::admin);
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    std::string rest = req.path.substr(std::strlen("/api/v1/tokens/"));
    if (!rest.ends_with("/revoke")) return api_error(404, "expected /api/v1/tokens/NAME/revoke");
    const std::string name = rest.substr(0, rest.size() - std::strlen("/revoke"));
    auto r = auth.revoke(name);
    if (!r) return api_error(404, r.error().message);
    auth.audit(std::get<Principal>(who), "token.revoke", "token/" + name);
    return http::Response::json(200, R"({"revoked":true})");
  });
}

}  // namespace mailmoat::app
