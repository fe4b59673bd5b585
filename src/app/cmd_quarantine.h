// `mailmoat quarantine list|show ID|release ID [--to R]...|delete ID|download ID`:
// the quarantine of a running gateway, through its admin API.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct QuarantineCommand {
  std::string action;  // list, show, release, delete, download
  std::string config_path;
  std::vector<std::string> overrides;
  std::string id, state, reason, sender, recipient, since, output, note;
  bool now = false;  // digest --now
  std::vector<std::string> to;
  bool json = false;
};

void add_quarantine_command(CLI::App& app, QuarantineCommand& cmd);
int run_quarantine_command(const QuarantineCommand& cmd);

}  // namespace mailmoat::app
