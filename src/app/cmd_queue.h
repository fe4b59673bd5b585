// `mailmoat queue list|show|retry|hold|release|delete`: the queue of a
// running gateway, through its admin API on the configured HTTP listener.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct QueueCommand {
  std::string config_path;
  std::vector<std::string> overrides;
  std::string action;  // list, show, retry, hold, release, delete
  std::string id;
  bool all = false;
  bool tls_failures = false;
  bool json = false;
};

void add_queue_command(CLI::App& app, QueueCommand& cmd);
int run_queue_command(const QueueCommand& cmd);

}  // namespace mailmoat::app
