// `mailmoat admin token create --name N --role admin|viewer | list | revoke NAME`:
// API tokens of a running gateway, through its admin API (with the bootstrap
// token from the data directory). A created token is printed once.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct AdminCommand {
  std::string action;  // token-create, token-list, token-revoke
  std::string config_path;
  std::vector<std::string> overrides;
  std::string name, role = "viewer";
  bool json = false;
};

void add_admin_command(CLI::App& app, AdminCommand& cmd);
int run_admin_command(const AdminCommand& cmd);

}  // namespace mailmoat::app
