#include "app/admin_api.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/api_auth.h"
#include "app/api_support.h"
#include "queue/manager.h"
#include "store/stores.h"
#include "util/errno_message.h"
#include "util/strings.h"

namespace mailmoat::app {

namespace {

const char* status_name(queue::RecipientStatus s) {
  switch (s) {
    case queue::RecipientStatus::pending: return "pending";
    case queue::RecipientStatus::delivered: return "delivered";
    case queue::RecipientStatus::failed: return "failed";
  }
  return "pending";
}

nlohmann::json to_json(const queue::QueuedMessage& m, bool detail) {
  nlohmann::json rcpts = nlohmann::json::array();
  std::string state = m.held ? "held" : "active";
  bool deferred = false;
  for (const auto& r : m.recipients) {
    deferred |= r.status == queue::RecipientStatus::pending && r.attempts > 0;
    nlohmann::json j{{"address", r.address}, {"status", status_name(r.status)}, {"attempts", r.attempts}};
    if (detail || r.status != queue::RecipientStatus::delivered) {
      j["last_reply"] = r.last_reply;
      j["remote"] = r.remote;
      j["next_attempt"] = r.next_attempt;
      j["tls_failure"] = r.tls_failure;  // what `queue retry --tls-failures` acts on
    }
    rcpts.push_back(std::move(j));
  }
  if (!m.held && deferred) state = "deferred";
  if (!m.held && m.hold_until > 0) state = "held-until";  // a transport rule's timed hold
  nlohmann::json j{{"id", m.id},           {"sender", m.envelope.sender}, {"received_at", m.received_at},
                   {"size", m.size},       {"state", state},              {"subject", m.subject},
                   {"recipients", rcpts}};
  if (m.hold_until > 0) j["hold_until"] = m.hold_until;
  if (!m.route.empty()) j["route"] = m.route;
  if (m.require_tls) j["require_tls"] = true;
  if (detail) {
    j["message_id"] = m.message_id;
    j["client_address"] = m.client_address;
    j["helo"] = m.helo;
    j["listener"] = m.listener;
    j["is_dsn"] = m.is_dsn;
  }
  return j;
}

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

}  // namespace

util::Result<std::string> load_or_create_admin_token(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "admin.token").string();
  {
    std::ifstream in(path);
    std::string token;
    if (in && std::getline(in, token) && token.size() >= 32) return token;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return util::fail("cannot generate the admin token");
  static const char* hex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : raw) {
    token += hex[b >> 4];
    token += hex[b & 15];
  }
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail("cannot write " + path + ": " + util::errno_message(errno));
  std::string line = token + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return util::fail("cannot write " + path);
  return token;
}

namespace {

nlohmann::json record_json(const store::TraceRecord& r) {
  return {{"trace_id", r.trace_id},     {"recipient", r.recipient},
          {"sender", r.sender},         {"subject", r.subject},
          {"message_id", r.message_id}, {"client_ip", r.client_ip},
          {"direction", std::string(store::to_string(r.direction))},
          {"status", std::string(store::to_string(r.status))},
          {"size", r.size},             {"received_at", r.received_at},
          {"updated_at", r.updated_at}};
}

}  // namespace

void add_trace_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth) {
  router.add("GET", "/api/v1/trace", guarded(auth, Role::viewer, [&trace](const http::Request& req, const Principal&) {
    store::TraceQuery q;
    for (const auto& [key, value] : query_pairs(req.query)) {
      if (key == "sender") q.sender = value;
      else if (key == "recipient") q.recipient = value;
      else if (key == "message_id") q.message_id = value;
      else if (key == "client_ip") q.client_ip = value;
      else if (key == "cursor") q.cursor = value;
      else if (key == "subject") {
        for (auto w : util::split(value, ' '))
          if (!w.empty()) q.subject_words.emplace_back(w);
      } else if (key == "status") {
        q.status = store::parse_trace_status(value);
        if (!q.status) return api_error(400, "unknown status \"" + value + "\"");
      } else if (key == "direction") {
        q.direction = store::parse_direction(value);
        if (!q.direction) return api_error(400, "unknown direction \"" + value + "\"");
      } else if (is_window_key(key)) {
        if (auto bad = apply_window(key, value, q)) return *bad;
      } else {
        return api_error(400, "unknown parameter \"" + key + "\"");
      }
    }
    auto page = trace.search(q);
    if (!page) return api_error(400, page.error().message);
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : page->items) items.push_back(record_json(r));
    return http::Response::json(200, nlohmann::json{{"records", items}, {"next_cursor", page->next_cursor}}.dump(
                                         -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }));
  router.add_prefix("GET", "/api/v1/trace/", guarded(auth, Role::viewer, [&trace](const http::Request& req, const Principal&) {
    std::string id = req.path.substr(std::strlen("/api/v1/trace/"));
    if (!valid_id(id)) return api_error(400, "invalid trace id");
    auto detail = trace.detail(id);
    if (!detail) return api_error(500, detail.error().message);
    if (detail->records.empty()) return api_error(404, "no message with that id in the trace");
    nlohmann::json records = nlohmann::json::array(), events = nlohmann::json::array();
    for (const auto& r : detail->records) records.push_back(record_json(r));
    for (const auto& e : detail->events) {
      nlohmann::json ev{{"at", e.at}, {"type", std::string(store::to_string(e.type))}, {"recipient", e.recipient}};
      if (e.status) ev["status"] = std::string(store::to_string(*e.status));
      auto d = nlohmann::json::parse(e.detail, nullptr, false);
      ev["detail"] = d.is_discarded() ? nlohmann::json(e.detail) : d;
      events.push_back(std::move(ev));
    }
    return http::Response::json(200, nlohmann::json{{"trace_id", id}, {"records", records}, {"events", events}}.dump(
                                         -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }));
}

void add_stats_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth) {
  router.add("GET", "/api/v1/stats", guarded(auth, Role::viewer, [&trace](const http::Request& req, const Principal&) {
    const store::Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
    store::Micros until = now, since = now - 24ll * 3600 * 1000000;
    for (const auto& [key, value] : query_pairs(req.query)) {
      auto n = util::parse_uint(value);
      if (key != "since" && key != "until") return api_error(400, "unknown parameter \"" + key + "\"");
      if (!n) return api_error(400, key + " must be a non-negative integer");
      (key == "since" ? since : until) = static_cast<store::Micros>(*n);
    }
    if (until <= since) return api_error(400, "until must be after since");
    if (until - since > 92ll * 86400 * 1000000) return api_error(400, "at most 92 days at a time");
    auto counts = trace.hourly_counts(since, until);
    if (!counts) return api_error(500, counts.error().message);
    nlohmann::json hours = nlohmann::json::array();
    for (const auto& c : *counts)
      hours.push_back({{"hour", c.hour}, {"direction", std::string(store::to_string(c.direction))},
                       {"status", std::string(store::to_string(c.status))}, {"count", c.count}});
    return http::Response::json(200, nlohmann::json{{"since", since}, {"until", until}, {"counts", hours}}.dump());
  }));
}

void add_audit_routes(http::Router& router, store::AuditLog& audit, const ApiAuth& auth) {
  router.add("GET", "/api/v1/audit", guarded(auth, Role::admin, [&audit](const http::Request& req, const Principal&) {
    store::Micros since = 0;
    std::size_t limit = 100;
    for (const auto& [key, value] : query_pairs(req.query)) {
      auto n = util::parse_uint(value);
      if (key != "since" && key != "limit") return api_error(400, "unknown parameter \"" + key + "\"");
      if (!n) return api_error(400, key + " must be a non-negative integer");
      if (key == "since") since = static_cast<store::Micros>(*n);
      else limit = std::min<std::size_t>(*n, 1000);
    }
    auto entries = audit.list(since, limit);
    if (!entries) return api_error(500, entries.error().message);
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : *entries)
      list.push_back({{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"action", e.action}, {"target", e.target},
                      {"detail", e.detail}});
    return http::Response::json(200, nlohmann::json{{"entries", list}}.dump(-1, ' ', false,
                                                                            nlohmann::json::error_handler_t::replace));
  }));
}

void add_queue_routes(http::Router& router, queue::QueueManager& q, const ApiAuth& auth) {
  router.add("GET", "/api/v1/queue", guarded(auth, Role::viewer, [&q](const http::Request&, const Principal&) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : q.list()) list.push_back(to_json(m, false));
    return http::Response::json(200, nlohmann::json{{"messages", list}}.dump());
  }));

  router.add("POST", "/api/v1/queue/retry", guarded(auth, Role::admin, [&q, &auth](const http::Request& req, const Principal& who) {
    auto body = nlohmann::json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return api_error(400, "body must be a JSON object");
    for (auto& [k, v] : body.items())
      if (k != "tls_failures" || !v.is_boolean()) return api_error(400, "unknown or invalid field \"" + k + "\"");
    std::size_t n = q.retry("", body.value("tls_failures", false));
    auth.audit(who, "queue.retry", "queue", "recipients=" + std::to_string(n));
    return http::Response::json(200, nlohmann::json{{"recipients_rescheduled", n}}.dump());
  }));
  router.add_prefix("GET", "/api/v1/queue/", guarded(auth, Role::viewer, [&q](const http::Request& req, const Principal&) {
    std::string id = req.path.substr(std::strlen("/api/v1/queue/"));
    if (!valid_id(id)) return api_error(400, "invalid queue id");
    auto m = q.find(id);
    if (!m) return api_error(404, "no such message in the queue");
    return http::Response::json(200, to_json(*m, true).dump());
  }));
  router.add_prefix("POST", "/api/v1/queue/", guarded(auth, Role::admin, [&q, &auth](const http::Request& req, const Principal& who) {
    std::string rest = req.path.substr(std::strlen("/api/v1/queue/"));
    auto slash = rest.find('/');
    if (slash == std::string::npos) return api_error(404, "expected /api/v1/queue/ID/ACTION");
    std::string id = rest.substr(0, slash), action = rest.substr(slash + 1);
    if (!valid_id(id)) return api_error(400, "invalid queue id");
    bool ok = false;
    if (action == "hold") ok = q.hold(id);
    else if (action == "release") ok = q.release(id);
    else if (action == "delete") ok = q.remove(id);
    else if (action == "retry") ok = q.find(id).has_value() && (q.retry(id), true);
    else return api_error(404, "unknown action \"" + action + "\"");
    if (!ok) return api_error(404, "no such message in the queue");
    auth.audit(who, "queue." + action, "queue/" + id);
    return http::Response::json(200, nlohmann::json{{"id", id}, {"action", action}, {"ok", true}}.dump());
  }));
}

}  // namespace mailmoat::app
