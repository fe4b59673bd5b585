#include "app/console_api.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "app/api_support.h"
#include "app/config.h"
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

std::vector<std::pair<std::string, std::string>> config_sections(const std::string& toml,
                                                                 const std::vector<std::string>& wanted) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(toml);
  std::string line;
  bool keep = false;
  while (std::getline(in, line)) {
    if (line.starts_with("[")) {
      std::string name = line.substr(line.find_first_not_of('['));
      name.resize(std::min(name.size(), name.find(']')));
      std::string top = name.substr(0, name.find('.'));
      keep = std::find(wanted.begin(), wanted.end(), top) != wanted.end();
      if (keep) out.emplace_back(name, "");
    }
    if (keep) out.back().second += line + "\n";
  }
  return out;
}

void add_policy_read_routes(http::Router& router, const Config& config, const ApiAuth& auth) {
  router.add("GET", "/api/v1/policies", guarded(auth, Role::viewer, [&config](const http::Request& req, const Principal&) {
    if (!req.query.empty()) return api_error(400, "no parameters are taken");
    nlohmann::json sections = nlohmann::json::array();
    for (const auto& [name, text] :
         config_sections(render_config(config), {"rules", "verdict", "connection", "tls", "links", "attachments"}))
      sections.push_back({{"name", name}, {"toml", text}});
    nlohmann::json j{{"sections", sections}, {"rules_file", config.rules.file}};
    if (!config.rules.file.empty()) {
      std::ifstream f(config.rules.file, std::ios::binary);
      std::string text;
      text.resize(1 << 20);
      f.read(text.data(), static_cast<std::streamsize>(text.size()));
      text.resize(static_cast<std::size_t>(f.gcount()));
      j["rules_text"] = text;
    }
    return http::Response::json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }));
}

}  // namespace mailmoat::app
