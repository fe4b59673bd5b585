// `mailmoat links decode URL` (reads a Safe Link back: the original URL, the
// message and recipient tokens, and whether the signature is valid under the
// configured keys) and `mailmoat links trace` (the URL trace of a running
// gateway, through its admin API).
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct LinksCommand {
  std::string action;  // decode, trace
  std::string config_path;
  std::vector<std::string> overrides;
  std::string url, recipient, url_contains, since;
  bool json = false;
};

void add_links_command(CLI::App& app, LinksCommand& cmd);
int run_links_command(const LinksCommand& cmd);

}  // namespace mailmoat::app
