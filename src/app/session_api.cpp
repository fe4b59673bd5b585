#include "app/session_api.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "app/api_support.h"

namespace mailmoat::app {

namespace {

std::string cookie_header(const std::string& value, long long max_age, bool secure) {
  std::string c = std::string(kSessionCookie) + "=" + value + "; Path=/; Max-Age=" + std::to_string(max_age) +
                  "; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  return c;
}

nlohmann::json session_body(const Session& s) {
  return {{"user", s.user}, {"role", std::string(to_string(s.role))}, {"csrf", s.csrf}, {"expires_at", s.expires_at}};
}

http::Response too_many(long long seconds) {
  auto r = api_error(429, "too many failed sign-ins; try again in " + std::to_string(seconds) + " seconds");
  r.headers.emplace_back("Retry-After", std::to_string(seconds));
  return r;
}

// The body of POST /api/v1/session, or the 400 to answer.
std::variant<std::pair<std::string, std::string>, http::Response> login_fields(const std::string& text) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
  for (auto& [k, v] : body.items())
    if ((k != "user" && k != "password") || !v.is_string()) return api_error(400, "unknown or invalid field \"" + k + "\"");
  if (!body.contains("user") || !body.contains("password")) return api_error(400, "user and password are required");
  return std::pair{body["user"].get<std::string>(), body["password"].get<std::string>()};
}

http::Response sign_in(const http::Request& req, Accounts& accounts, ApiAuth& auth) {
  if (cross_site_request(req)) return api_error(403, "cross-site request refused");
  auto fields = login_fields(req.body);
  if (auto* bad = std::get_if<http::Response>(&fields)) return *bad;
  const auto& [user, password] = std::get<0>(fields);
  const std::string user_key = "user:" + user;
  const std::string address_key = "ip:" + req.client_address;
  const Principal actor{valid_user_name(user) ? "user:" + user : "anonymous", Role::viewer};
  const long long now = accounts.now();
  // Checked before hashing: a locked-out guesser costs no argon2 work.
  long long wait = std::max(accounts.limiter_by_user().retry_after(user_key, now),
                            accounts.limiter_by_address().retry_after(address_key, now));
  if (wait > 0) {
    auth.audit(actor, "session.login_refused", "session", "from=" + req.client_address + " rate limited");
    return too_many(wait);
  }
  auto role = accounts.verify(user, password);
  if (!role) {
    accounts.limiter_by_user().fail(user_key, now);
    accounts.limiter_by_address().fail(address_key, now);
    auth.audit(actor, "session.login_failed", "session", "from=" + req.client_address);
    return api_error(401, "wrong user name or password");
  }
  accounts.limiter_by_user().clear(user_key);
  auto opened = accounts.open_session(user, *role);
  if (!opened) return api_error(500, opened.error().message);
  auth.audit(actor, "session.login", "session", "from=" + req.client_address);
  auto r = http::Response::json(200, session_body(opened->second).dump());
  r.headers.emplace_back("Set-Cookie", cookie_header(opened->first, accounts.session_minutes() * 60, req.secure));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

void add_session_routes(http::Router& router, Accounts& accounts, ApiAuth& auth) {
  router.add("POST", "/api/v1/session",
             [&accounts, &auth](const http::Request& req) { return sign_in(req, accounts, auth); });
  router.add("GET", "/api/v1/session", [&accounts](const http::Request& req) {
    if (cross_site_request(req)) return api_error(403, "cross-site request refused");
    auto s = accounts.find_session(session_cookie(req));
    if (!s) return api_error(401, "no session; sign in");
    auto r = http::Response::json(200, session_body(*s).dump());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  });
  router.add("DELETE", "/api/v1/session", [&accounts, &auth](const http::Request& req) {
    const std::string id = session_cookie(req);
    if (id.empty()) return api_error(401, "no session; sign in");
    auto who = auth.check(req, Role::viewer);  // session + CSRF token
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    accounts.close_session(id);
    auth.audit(std::get<Principal>(who), "session.logout", "session");
    auto r = http::Response::json(200, R"({"signed_out":true})");
    r.headers.emplace_back("Set-Cookie", cookie_header("", 0, req.secure));
    return r;
  });
}

namespace {

std::variant<nlohmann::json, http::Response> object_body(const std::string& text,
                                                         std::initializer_list<std::string_view> allowed) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
  for (auto& [k, v] : body.items()) {
    bool known = std::find(allowed.begin(), allowed.end(), k) != allowed.end();
    if (!known || !v.is_string()) return api_error(400, "unknown or invalid field \"" + k + "\"");
  }
  return body;
}

http::Response create_user(const http::Request& req, const Principal& who, Accounts& accounts, ApiAuth& auth) {
  auto parsed = object_body(req.body, {"name", "role", "password"});
  if (auto* bad = std::get_if<http::Response>(&parsed)) return *bad;
  const auto& body = std::get<nlohmann::json>(parsed);
  auto role = parse_role(body.value("role", ""));
  if (!role) return api_error(400, "role must be admin or viewer");
  const std::string name = body.value("name", "");
  if (auto r = accounts.create_user(name, *role, body.value("password", ""), who.name); !r)
    return api_error(400, r.error().message);
  auth.audit(who, "user.create", "user/" + name, "role=" + std::string(to_string(*role)));
  return http::Response::json(200, nlohmann::json{{"name", name}, {"role", std::string(to_string(*role))}}.dump());
}

http::Response user_action(const http::Request& req, const Principal& who, Accounts& accounts, ApiAuth& auth) {
  std::string rest = req.path.substr(std::strlen("/api/v1/users/"));
  auto slash = rest.rfind('/');
  if (slash == std::string::npos) return api_error(404, "expected /api/v1/users/NAME/password or /delete");
  const std::string name = url_decode(rest.substr(0, slash));
  const std::string action = rest.substr(slash + 1);
  if (action == "delete") {
    if (auto r = accounts.delete_user(name); !r) return api_error(404, r.error().message);
    auth.audit(who, "user.delete", "user/" + name);
    return http::Response::json(200, nlohmann::json{{"deleted", name}}.dump());
  }
  if (action != "password") return api_error(404, "expected /api/v1/users/NAME/password or /delete");
  auto parsed = object_body(req.body, {"password"});
  if (auto* bad = std::get_if<http::Response>(&parsed)) return *bad;
  auto r = accounts.set_password(name, std::get<nlohmann::json>(parsed).value("password", ""));
  if (!r) return api_error(r.error().message.starts_with("no user") ? 404 : 400, r.error().message);
  auth.audit(who, "user.password", "user/" + name);
  return http::Response::json(200, nlohmann::json{{"name", name}, {"password_changed", true}}.dump());
}

}  // namespace

void add_user_routes(http::Router& router, Accounts& accounts, ApiAuth& auth) {
  router.add("GET", "/api/v1/users", guarded(auth, Role::admin, [&accounts](const http::Request&, const Principal&) {
    auto users = accounts.users();
    if (!users) return api_error(500, users.error().message);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& u : *users)
      list.push_back({{"name", u.name}, {"role", std::string(to_string(u.role))}, {"created_at", u.created_at},
                      {"created_by", u.created_by}, {"password_changed_at", u.password_changed_at}});
    return http::Response::json(200, nlohmann::json{{"users", list}}.dump());
  }));
  router.add("POST", "/api/v1/users",
             guarded(auth, Role::admin, [&accounts, &auth](const http::Request& req, const Principal& who) {
               return create_user(req, who, accounts, auth);
             }));
  router.add_prefix("POST", "/api/v1/users/",
                    guarded(auth, Role::admin, [&accounts, &auth](const http::Request& req, const Principal& who) {
                      return user_action(req, who, accounts, auth);
                    }));
}

}  // namespace mailmoat::app
