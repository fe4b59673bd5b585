// `mailmoat admin user ...`: console accounts through the admin API of a
// running gateway. Passwords never travel on the command line (other users see
// argv in ps): they are read from --password-file or stdin, with echo off and
// asked twice when stdin is a terminal.
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "app/admin_client.h"
#include "app/cmd_admin.h"

namespace mailmoat::app {

namespace {

std::string read_hidden(const char* prompt) {
  (void)std::fprintf(stderr, "%s", prompt);
  termios old{};
  bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  (void)std::fprintf(stderr, "\n");
  return line;
}

util::Result<std::string> read_password(const AdminCommand& cmd) {
  std::string password;
  if (!cmd.password_file.empty()) {
    std::ifstream in(cmd.password_file);
    if (!in) return util::fail("cannot read " + cmd.password_file);
    std::getline(in, password);
  } else if (::isatty(STDIN_FILENO)) {
    password = read_hidden("Password: ");
    if (read_hidden("Again: ") != password) return util::fail("the passwords differ");
  } else {
    std::getline(std::cin, password);
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) return util::fail("no password given (stdin or --password-file)");
  return password;
}

void print_users(const nlohmann::json& j) {
  std::printf("%-24s %-7s %-19s  %-19s  %s\n", "NAME", "ROLE", "CREATED (UTC)", "PASSWORD SET (UTC)", "BY");
  for (const auto& u : j["users"])
    std::printf("%-24s %-7s %-19s  %-19s  %s\n", u.value("name", "").c_str(), u.value("role", "").c_str(),
                utc_time(u.value("created_at", 0ll)).c_str(), utc_time(u.value("password_changed_at", 0ll)).c_str(),
                u.value("created_by", "").c_str());
}

}  // namespace

void add_user_subcommands(CLI::App& admin, AdminCommand& cmd) {
  auto* user = admin.add_subcommand("user", "Console accounts (argon2id password hashes, roles viewer/admin)");
  user->require_subcommand(1);
  auto* create = user->add_subcommand("create", "Create an account; the password is read from stdin");
  create->add_option("--name", cmd.name, "Account name (letters, digits, - _ . @)")->required();
  create->add_option("--role", cmd.role, "viewer (reads) or admin (acts)")->check(CLI::IsMember({"viewer", "admin"}));
  create->add_option("--password-file", cmd.password_file, "Read the password from this file's first line");
  create->callback([&cmd] { cmd.action = "user-create"; });
  auto* list = user->add_subcommand("list", "Accounts by name and role");
  list->callback([&cmd] { cmd.action = "user-list"; });
  auto* del = user->add_subcommand("delete", "Delete an account and end its sessions");
  del->add_option("name", cmd.name, "Account name")->required();
  del->callback([&cmd] { cmd.action = "user-delete"; });
  auto* passwd = user->add_subcommand("passwd", "Set an account's password (ends its sessions)");
  passwd->add_option("name", cmd.name, "Account name")->required();
  passwd->add_option("--password-file", cmd.password_file, "Read the password from this file's first line");
  passwd->callback([&cmd] { cmd.action = "user-passwd"; });
}

int run_user_command(const AdminCommand& cmd) {
  util::Result<nlohmann::json> j = util::fail("");
  if (cmd.action == "user-create" || cmd.action == "user-passwd") {
    auto password = read_password(cmd);
    if (!password) {
      (void)std::fprintf(stderr, "mailmoat: error: %s\n", password.error().message.c_str());
      return 1;
    }
    if (cmd.action == "user-create")
      j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/users",
                     nlohmann::json{{"name", cmd.name}, {"role", cmd.role}, {"password", *password}}.dump());
    else
      j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/users/" + query_escape(cmd.name) + "/password",
                     nlohmann::json{{"password", *password}}.dump());
  } else if (cmd.action == "user-list") {
    j = admin_call(cmd.config_path, cmd.overrides, "GET", "/api/v1/users");
  } else {
    j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/users/" + query_escape(cmd.name) + "/delete", "{}");
  }
  if (!j) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", j.error().message.c_str());
    return 1;
  }
  if (cmd.json) std::printf("%s\n", j->dump(2).c_str());
  else if (cmd.action == "user-create") std::printf("created user \"%s\" (%s)\n", cmd.name.c_str(), cmd.role.c_str());
  else if (cmd.action == "user-passwd") std::printf("password of \"%s\" set; its sessions ended\n", cmd.name.c_str());
  else if (cmd.action == "user-list") print_users(*j);
  else std::printf("deleted user \"%s\"\n", cmd.name.c_str());
  return 0;
}

}  // namespace mailmoat::app
