// `mailmoat admin token create --name N --role admin|viewer | list | revoke NAME`:
// API tokens of a running gateway, through its admin API (with the bootstrap
// token from the data directory). A created token is printed once.
// `mailmoat admin user create --name N --role R | list | delete NAME | passwd NAME`:
// console accounts; the password comes from stdin or --password-file, never argv.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mailmoat::app {

struct AdminCommand {
  std::string action;  // token-create, token-list, token-revoke, user-create, user-list, user-delete, user-passwd
  std::string config_path;
  std::vector<std::string> overrides;
  std::string name, role = "viewer";
  std::string password_file;  // user create/passwd: first line is the password; empty: stdin
  bool json = false;
};

// The `admin user` subcommands (cmd_admin_user.cpp).
void add_user_subcommands(CLI::App& admin, AdminCommand& cmd);
int run_user_command(const AdminCommand& cmd);

void add_admin_command(CLI::App& app, AdminCommand& cmd);
int run_admin_command(const AdminCommand& cmd);

}  // namespace mailmoat::app
