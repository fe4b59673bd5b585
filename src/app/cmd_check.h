// `mailmoat check`: runs the auth filter (SPF, DKIM, ARC, iprev, DMARC) on one
// message and prints the Authentication-Results field mailmoat would add, or
// every result with its reasons as JSON. With --zone, all DNS comes from zone
// files (offline); otherwise from the configured resolver.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct CheckCommand {
  bool selected = false;
  std::string config_path;
  std::vector<std::string> zones;
  std::string ip;
  std::string helo = "unknown";
  std::string mail_from;
  bool rfc7489 = false;
  bool json = false;
  std::string message = "-";
};

void add_check_command(CLI::App& app, CheckCommand& cmd);
int run_check_command(const CheckCommand& cmd);

}  // namespace mailmoat::app
