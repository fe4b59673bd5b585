#include "app/cmd_trace.h"

#include <CLI/CLI.hpp>
#include <arpa/inet.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "app/admin_client.h"
#include "store/types.h"
#include "util/strings.h"

namespace mailmoat::app {

void add_trace_command(CLI::App& app, TraceCommand& cmd) {
  auto* t = app.add_subcommand("trace", "Search the message trace of a running gateway");
  t->require_subcommand(1);
  t->fallthrough();
  t->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  t->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  t->add_flag("--json", cmd.json, "Print JSON");
  auto* search = t->add_subcommand("search", "Messages matching all given filters, newest first");
  search->add_option("--sender", cmd.sender, "Envelope sender; * matches any run of characters");
  search->add_option("--recipient", cmd.recipient, "Recipient; * matches any run of characters");
  search->add_option("--since", cmd.since, "Received at or after: 2026-11-28T10:00:00Z, 2026-11-28 or an age (2h, 7d)");
  search->add_option("--until", cmd.until, "Received before (same forms)");
  search->add_option("--status", cmd.status, "received, delivered, deferred, failed, quarantined, rejected, ...");
  search->add_option("--message-id", cmd.message_id, "Message-ID");
  search->add_option("--subject", cmd.subject, "Words that must all appear in the subject (any order, any case)");
  search->add_option("--client-ip", cmd.client_ip, "Address of the SMTP client that sent the message");
  search->add_option("--direction", cmd.direction, "inbound, outbound or internal");
  search->callback([&cmd] { cmd.action = "search"; });
  auto* show = t->add_subcommand("show", "The whole timeline of one message");
  show->add_option("id", cmd.id, "Trace (queue) id")->required();
  show->callback([&cmd] { cmd.action = "show"; });
}

std::optional<long long> parse_time_arg(const std::string& text, long long now) {
  if (text.empty()) return std::nullopt;
  char unit = text.back();
  if (unit == 'm' || unit == 'h' || unit == 'd') {
    auto n = util::parse_uint(std::string_view(text).substr(0, text.size() - 1));
    if (!n) return std::nullopt;
    long long secs = static_cast<long long>(*n) * (unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400);
    return now - secs * 1000000;
  }
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) end = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (!end || (*end != 0 && std::string(end) != "Z")) return std::nullopt;
  return static_cast<long long>(timegm(&tm)) * 1000000;
}

namespace {

bool is_ip_address(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// The filters the gateway would refuse anyway, refused here with the flag's name
// (exit 2, like an unreadable time) before anything is sent.
std::string bad_search_filter(const TraceCommand& cmd) {
  if (!cmd.direction.empty() && !store::parse_direction(cmd.direction))
    return "--direction: \"" + cmd.direction + "\" is not inbound, outbound or internal";
  if (!cmd.client_ip.empty() && !is_ip_address(cmd.client_ip))
    return "--client-ip: \"" + cmd.client_ip + "\" is not an IPv4 or IPv6 address";
  if (cmd.subject.find_first_not_of(' ') == std::string::npos && !cmd.subject.empty())
    return "--subject: give at least one word";
  return {};
}

}  // namespace

int run_trace_command(const TraceCommand& cmd) {
  long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  std::string target;
  if (cmd.action == "show") {
    target = "/api/v1/trace/" + cmd.id;
  } else {
    if (auto bad = bad_search_filter(cmd); !bad.empty()) {
      (void)std::fprintf(stderr, "mailmoat: %s\n", bad.c_str());
      return 2;
    }
    std::string q;
    auto add = [&q](const char* k, const std::string& v) {
      if (!v.empty()) q += (q.empty() ? "?" : "&") + std::string(k) + "=" + query_escape(v);
    };
    add("sender", cmd.sender);
    add("recipient", cmd.recipient);
    add("status", cmd.status);
    add("message_id", cmd.message_id);
    add("subject", cmd.subject);
    add("client_ip", cmd.client_ip);
    add("direction", cmd.direction);
    for (const auto& [key, value] : {std::pair{"since", cmd.since}, std::pair{"until", cmd.until}}) {
      if (value.empty()) continue;
      auto t = parse_time_arg(value, now);
      if (!t) {
        (void)std::fprintf(stderr, "mailmoat: --%s: cannot read \"%s\" as a time\n", key, value.c_str());
        return 2;
      }
      add(key, std::to_string(*t));
    }
    target = "/api/v1/trace" + q;
  }
  auto j = admin_call(cmd.config_path, cmd.overrides, "GET", target);
  if (!j) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", j.error().message.c_str());
    return 1;
  }
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (cmd.action == "search") {
    std::printf("%-19s  %-24s %-11s %-28s %s\n", "RECEIVED (UTC)", "ID", "STATUS", "SENDER", "RECIPIENT / SUBJECT");
    for (const auto& r : (*j)["records"])
      std::printf("%-19s  %-24s %-11s %-28s %s / %s\n", utc_time(r.value("received_at", 0ll)).c_str(),
                  r.value("trace_id", "").c_str(), r.value("status", "").c_str(), r.value("sender", "").c_str(),
                  r.value("recipient", "").c_str(), r.value("subject", "").c_str());
    std::printf("%zu record(s)%s\n", (*j)["records"].size(),
                j->value("next_cursor", "").empty() ? "" : " (more: use --json for the cursor)");
    return 0;
  }
  std::printf("Message %s\n", cmd.id.c_str());
  for (const auto& r : (*j)["records"])
    std::printf("  %s -> %s: %s (%s, %s)\n", r.value("sender", "").c_str(), r.value("recipient", "").c_str(),
                r.value("status", "").c_str(), r.value("direction", "").c_str(), r.value("subject", "").c_str());
  std::printf("Timeline:\n");
  for (const auto& e : (*j)["events"]) {
    std::string line = utc_time(e.value("at", 0ll)) + "  " + e.value("type", "");
    if (!e.value("recipient", "").empty()) line += " " + e.value("recipient", "");
    if (e.contains("status")) line += " -> " + e["status"].get<std::string>();
    std::string detail = e.contains("detail") ? (e["detail"].is_object() ? e["detail"].dump() : e["detail"].get<std::string>()) : "";
    std::printf("  %s  %s\n", line.c_str(), detail.c_str());
  }
  return 0;
}

}  // namespace mailmoat::app
