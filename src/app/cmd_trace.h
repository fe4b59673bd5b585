// `mailmoat trace search|show`: the message trace of a running gateway,
// through its admin API.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct TraceCommand {
  std::string action;  // search, show
  std::string config_path;
  std::vector<std::string> overrides;
  std::string sender, recipient, since, until, status, message_id, id;
  std::string subject, client_ip, direction;  // subject: words, all of which must appear
  bool json = false;
};

void add_trace_command(CLI::App& app, TraceCommand& cmd);
int run_trace_command(const TraceCommand& cmd);
// "2026-11-28T10:00:00Z", "2026-11-28", or an age like "90m", "2h", "7d"; microseconds since the epoch.
std::optional<long long> parse_time_arg(const std::string& text, long long now_micros);

}  // namespace mailmoat::app
