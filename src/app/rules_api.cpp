#include "app/rules_api.h"

#include <nlohmann/json.hpp>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "app/rules_setup.h"
#include "app/rules_test.h"
#include "mail/message.h"
#include "policy/rules.h"

namespace mailmoat::app {

namespace {

http::Response json_ok(const nlohmann::json& j) {
  return http::Response::json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response reload(RulesReloader& rules, const ApiAuth& auth, const Principal& who) {
  std::vector<std::string> errors;
  auto n = rules.reload_now("admin API", errors);
  if (!n) {
    auth.audit(who, "rules.reload_failed", rules.path(), n.error().message);
    if (errors.empty()) return api_error(409, n.error().message);
    nlohmann::json j{{"error", n.error().message}, {"errors", errors}};
    return http::Response::json(422, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  auth.audit(who, "rules.reload", rules.path(), "rules=" + std::to_string(*n));
  return json_ok({{"rules", *n}, {"loaded_from", rules.path()}});
}

struct TestParams {
  std::string ip = "192.0.2.1", helo = "unknown", mail_from, role = "inbound";
  std::vector<std::string> rcpts;
  bool tls = false;
};

std::optional<http::Response> parse_params(const http::Request& req, TestParams& p) {
  for (const auto& [k, v] : query_pairs(req.query)) {
    if (k == "ip") p.ip = v;
    else if (k == "helo") p.helo = v;
    else if (k == "mail_from") p.mail_from = v;
    else if (k == "rcpt") p.rcpts.push_back(v);
    else if (k == "role") {
      if (v != "inbound" && v != "relay" && v != "submission")
        return api_error(400, "role must be inbound, relay or submission");
      p.role = v;
    } else if (k == "tls") {
      if (v != "true" && v != "false") return api_error(400, "tls must be true or false");
      p.tls = v == "true";
    } else {
      return api_error(400, "unknown parameter \"" + k + "\"");
    }
  }
  return std::nullopt;
}

http::Response test(RulesReloader& rules, const Config& cfg, const http::Request& req) {
  TestParams p;
  if (auto bad = parse_params(req, p)) return *bad;
  if (req.body.empty()) return api_error(400, "the body must be the message to test (message/rfc822)");
  std::string message = mail::needs_normalization(req.body) ? mail::normalize_line_endings(req.body) : req.body;
  auto active = rules.filter()->rules();
  static const policy::RuleSet kNone{};
  auto ctx = rules_test_context(p.role, p.ip, p.helo, p.tls, p.mail_from, p.rcpts, std::move(message));
  auto outcome = run_rules_test(active ? *active : kNone, cfg, std::move(ctx));
  return json_ok(rules_test_json(outcome));
}

}  // namespace

void add_rules_routes(http::Router& router, RulesReloader& rules, const Config& cfg, const ApiAuth& auth) {
  router.add("POST", "/api/v1/rules/reload",
             guarded(auth, Role::admin, [&rules, &auth](const http::Request&, const Principal& who) {
               return reload(rules, auth, who);
             }));
  router.add("POST", "/api/v1/rules/test",
             guarded(auth, Role::viewer, [&rules, &cfg](const http::Request& req, const Principal&) {
               return test(rules, cfg, req);
             }));
}

}  // namespace mailmoat::app
