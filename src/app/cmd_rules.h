// `mailmoat rules check FILE` validates a transport rules file and prints each
// error as FILE:LINE: message. `mailmoat rules test` runs a rules file against
// one message without sending anything: which rules matched, which condition
// matched what, which actions would run, and the final SCL and outcome.
// With --auth-results-from-check it first runs the auth checks, as `mailmoat
// check` does, so that authentication conditions see real results.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct RulesCommand {
  std::string action;  // check | test
  std::string file;    // rules file
  std::string config_path;
  std::vector<std::string> zones;
  std::string ip = "192.0.2.1";
  std::string helo = "unknown";
  std::string mail_from;
  std::vector<std::string> rcpts;
  std::string role = "inbound";
  bool tls = false;
  bool auth_from_check = false;
  bool json = false;
  std::string message = "-";
};

void add_rules_command(CLI::App& app, RulesCommand& cmd);
int run_rules_command(const RulesCommand& cmd);

}  // namespace mailmoat::app
