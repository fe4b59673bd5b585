// `mailmoat dmarc report [--day YYYY-MM-DD | --today]`: run the DMARC aggregate
// report job of a running gateway now (default: yesterday, as the daily run
// does) and print what it did per domain. `mailmoat tlsrpt report` does the
// same for TLS-RPT (RFC 8460) through /api/v1/tlsrpt/reports.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct DmarcCommand {
  bool selected = false;
  std::string config_path;
  std::vector<std::string> overrides;
  std::string day;
  bool today = false;
  bool json = false;
  std::string kind = "dmarc";  // the API's /api/v1/<kind>/reports
};

void add_dmarc_command(CLI::App& app, DmarcCommand& cmd);
int run_dmarc_command(const DmarcCommand& cmd);
void add_tlsrpt_command(CLI::App& app, DmarcCommand& cmd);

}  // namespace mailmoat::app
