#include "app/console_api.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "app/api_support.h"
#include "store/stores.h"

namespace mailmoat::app {

namespace {

http::Response list_events(store::TraceStore& trace, const http::Request& req) {
  const store::Micros now = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  store::EventQuery q;
  q.since = now - 24ll * 3600 * 1000000;
  q.until = now + 1;
  std::string kind;
  for (const auto& [key, value] : query_pairs(req.query)) {
    if (key == "kind") {
      kind = value;
    } else if (key == "since" || key == "until" || key == "limit") {
      auto n = util::parse_uint(value);
      if (!n) return api_error(400, key + " must be a non-negative integer");
      if (key == "since") q.since = static_cast<store::Micros>(*n);
      else if (key == "until") q.until = static_cast<store::Micros>(*n);
      else q.limit = std::min<std::size_t>(*n, 5000);
    } else {
      return api_error(400, "unknown parameter \"" + key + "\"");
    }
  }
  if (kind == "authentication") {
    q.type = store::EventType::authentication;
  } else if (kind == "attachment") {
    // The attachments filter's notes (one per attachment) are trace notes.
    q.type = store::EventType::note;
    q.filter = "attachments";
  } else {
    return api_error(400, "kind must be authentication or attachment");
  }
  if (q.until <= q.since) return api_error(400, "until must be after since");
  auto events = trace.events(q);
  if (!events) return api_error(500, events.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : *events) {
    auto d = nlohmann::json::parse(e.detail, nullptr, false);
    if (kind == "attachment" && (!d.is_object() || d.value("event", "") != "attachment")) continue;
    list.push_back({{"trace_id", e.trace_id}, {"at", e.at}, {"recipient", e.recipient},
                    {"detail", d.is_discarded() ? nlohmann::json(e.detail) : d}});
  }
  return http::Response::json(200, nlohmann::json{{"events", list}}.dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace));
}

}  // namespace

void add_console_read_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth) {
  router.add("GET", "/api/v1/events", guarded(auth, Role::viewer, [&trace](const http::Request& req, const Principal&) {
    return list_events(trace, req);
  }));
}

}  // namespace mailmoat::app
