#include "app/quarantine_api.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "app/quarantine_actions.h"
#include "app/quarantine_service.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

nlohmann::json item_json(const store::QuarantineItem& q) {
  nlohmann::json j{{"id", q.id},
                   {"queue_id", q.queue_id},
                   {"reason", q.reason},
                   {"policy", q.policy},
                   {"sender", q.sender},
                   {"recipients", q.recipients},
                   {"subject", q.subject},
                   {"size", q.size},
                   {"created_at", q.created_at},
                   {"expires_at", q.expires_at},
                   {"state", std::string(store::to_string(q.state))}};
  if (q.state != store::QuarantineState::held) {
    j["state_changed_at"] = q.state_changed_at;
    j["state_changed_by"] = q.state_changed_by;
  }
  if (!q.released_to.empty()) j["released_to"] = q.released_to;
  return j;
}

http::Response json_ok(const nlohmann::json& j) {
  return http::Response::json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  auto n = util::parse_uint(s);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<std::int64_t>(*n);
}

http::Response list(QuarantineService& service, const http::Request& req) {
  store::QuarantineQuery q;
  for (const auto& [key, value] : query_pairs(req.query)) {
    if (key == "sender") q.sender = value;
    else if (key == "recipient") q.recipient = value;
    else if (key == "reason") q.reason = value;
    else if (key == "cursor") q.cursor = value;
    else if (key == "state") {
      q.state = store::parse_quarantine_state(value);
      if (!q.state) return api_error(400, "unknown state \"" + value + "\" (held, released, deleted)");
    } else if (is_window_key(key)) {
      if (auto bad = apply_window(key, value, q)) return *bad;
    } else {
      return api_error(400, "unknown parameter \"" + key + "\"");
    }
  }
  auto page = service.list(q);
  if (!page) return api_error(400, page.error().message);
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : page->items) items.push_back(item_json(item));
  return json_ok({{"items", items}, {"next_cursor", page->next_cursor}});
}

http::Response release(QuarantineService& service, std::int64_t id, const http::Request& req, const Principal& who) {
  auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
  std::vector<std::string> to;
  for (auto& [k, v] : body.items()) {
    if (k != "to" || !v.is_array()) return api_error(400, "unknown or invalid field \"" + k + "\"");
    for (const auto& a : v) {
      if (!a.is_string()) return api_error(400, "\"to\" must be a list of addresses");
      to.push_back(a.get<std::string>());
    }
  }
  auto r = service.release(id, who.name, to);
  if (!r) return api_error(409, r.error().message);
  return json_ok({{"id", id}, {"action", "release"}, {"queue_id", r->queue_id}, {"recipients", r->recipients}});
}

http::Response action_error(const ActionError& e) { return api_error(e.status, e.message); }

http::Response preview(QuarantineActions* actions, std::int64_t id, const Principal& who) {
  if (!actions) return api_error(404, "preview is not available");
  auto j = actions->preview(id, who.name, who.role == Role::admin);
  if (!j) return action_error(j.error());
  return json_ok(*j);
}

http::Response false_positive(QuarantineActions& actions, std::int64_t id, const http::Request& req,
                              const Principal& who) {
  auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
  std::string note;
  for (auto& [k, v] : body.items()) {
    if (k != "note" || !v.is_string()) return api_error(400, "unknown or invalid field \"" + k + "\"");
    note = v.get<std::string>();
  }
  if (note.size() > 2000) return api_error(400, "note is longer than 2000 characters");
  auto f = actions.report_false_positive(id, who.name, note);
  if (!f) return action_error(f.error());
  return json_ok({{"id", id}});
}

nlohmann::json false_positive_json(const FalsePositive& f) {
  return {{"id", f.id},         {"queue_id", f.queue_id}, {"sender", f.sender}, {"subject", f.subject},
          {"reason", f.reason}, {"by", f.by},             {"at", f.at},         {"note", f.note}};
}

}  // namespace

void add_quarantine_routes(http::Router& router, QuarantineService& service, const ApiAuth& auth,
                           QuarantineActions* actions) {
  if (actions)
    router.add("GET", "/api/v1/false-positives",
               guarded(auth, Role::viewer, [actions](const http::Request& req, const Principal&) {
                 if (!req.query.empty()) return api_error(400, "this route takes no parameters");
                 auto all = actions->false_positives();
                 if (!all) return api_error(500, all.error().message);
                 nlohmann::json items = nlohmann::json::array();
                 for (const auto& f : *all) items.push_back(false_positive_json(f));
                 return json_ok({{"items", items}});
               }));
  router.add("GET", "/api/v1/quarantine",
             guarded(auth, Role::viewer, [&service](const http::Request& req, const Principal&) {
               return list(service, req);
             }));
  // The item for viewers; its message (which may be malware) for admins only.
  router.add_prefix("GET", "/api/v1/quarantine/", [&service, &auth, actions](const http::Request& req) {
    std::string_view rest = std::string_view(req.path).substr(std::strlen("/api/v1/quarantine/"));
    bool want_message = rest.ends_with("/message");
    bool want_preview = rest.ends_with("/preview");
    auto who = auth.check(req, want_message ? Role::admin : Role::viewer);
    if (auto* denied = std::get_if<http::Response>(&who)) return *denied;
    if (want_message) rest.remove_suffix(std::strlen("/message"));
    if (want_preview) rest.remove_suffix(std::strlen("/preview"));
    auto id = parse_id(rest);
    if (!id) return api_error(400, "invalid quarantine id");
    if (want_preview) return preview(actions, *id, std::get<Principal>(who));
    if (want_message) {
      auto raw = service.download(*id, std::get<Principal>(who).name);
      if (!raw) return api_error(404, raw.error().message);
      http::Response r;
      r.status = 200;
      r.content_type = "message/rfc822";
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"quarantine-" + std::to_string(*id) + ".eml\"");
      r.body = std::move(*raw);
      return r;
    }
    auto item = service.get(*id);
    if (!item) return api_error(500, item.error().message);
    if (!*item) return api_error(404, "no quarantined message with that id");
    return json_ok(item_json(**item));
  });
  router.add_prefix("POST", "/api/v1/quarantine/",
                    guarded(auth, Role::admin, [&service, actions](const http::Request& req, const Principal& who) {
    std::string_view rest = std::string_view(req.path).substr(std::strlen("/api/v1/quarantine/"));
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return api_error(404, "expected /api/v1/quarantine/ID/ACTION");
    auto id = parse_id(rest.substr(0, slash));
    if (!id) return api_error(400, "invalid quarantine id");
    std::string_view action = rest.substr(slash + 1);
    if (action == "release") return release(service, *id, req, who);
    if (action == "allow-sender" && actions) {
      auto sender = actions->allow_sender(*id, who.name);
      if (!sender) return action_error(sender.error());
      return json_ok({{"sender", *sender}});
    }
    if (action == "false-positive" && actions) return false_positive(*actions, *id, req, who);
    if (action == "delete") {
      auto r = service.remove(*id, who.name);
      if (!r) return api_error(409, r.error().message);
      return json_ok({{"id", *id}, {"action", "delete"}});
    }
    return api_error(404, "unknown action \"" + std::string(action) + "\"");
  }));
}

}  // namespace mailmoat::app
