#include "app/cmd_admin.h"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/admin_client.h"

namespace mailmoat::app {

void add_admin_command(CLI::App& app, AdminCommand& cmd) {
  auto* admin = app.add_subcommand("admin", "Administer API access of a running gateway");
  admin->require_subcommand(1);
  admin->fallthrough();
  admin->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  admin->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  admin->add_flag("--json", cmd.json, "Print JSON");
  auto* token = admin->add_subcommand("token", "API tokens (bearer credentials with a role)");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Create a token; it is printed once and stored only as a hash");
  create->add_option("--name", cmd.name, "Name shown in the audit log (letters, digits, - _ .)")->required();
  create->add_option("--role", cmd.role, "viewer (reads) or admin (acts)")->check(CLI::IsMember({"viewer", "admin"}));
  create->callback([&cmd] { cmd.action = "token-create"; });
  auto* list = token->add_subcommand("list", "Tokens by name and role (never the tokens themselves)");
  list->callback([&cmd] { cmd.action = "token-list"; });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by name");
  revoke->add_option("name", cmd.name, "Token name")->required();
  revoke->callback([&cmd] { cmd.action = "token-revoke"; });
  add_user_subcommands(*admin, cmd);
}

int run_admin_command(const AdminCommand& cmd) {
  if (cmd.action.starts_with("user-")) return run_user_command(cmd);
  util::Result<nlohmann::json> j = util::fail("");
  if (cmd.action == "token-create") {
    nlohmann::json body{{"name", cmd.name}, {"role", cmd.role}};
    j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/tokens", body.dump());
  } else if (cmd.action == "token-list") {
    j = admin_call(cmd.config_path, cmd.overrides, "GET", "/api/v1/tokens");
  } else {
    j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/tokens/" + query_escape(cmd.name) + "/revoke", "{}");
  }
  if (!j) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", j.error().message.c_str());
    return 1;
  }
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
  } else if (cmd.action == "token-create") {
    std::printf("%s\n", j->value("token", "").c_str());
    (void)std::fprintf(stderr, "token \"%s\" (%s) created; it is shown only now\n", cmd.name.c_str(),
                 j->value("role", "").c_str());
  } else if (cmd.action == "token-list") {
    std::printf("%-24s %-7s %-19s  %s\n", "NAME", "ROLE", "CREATED (UTC)", "BY");
    for (const auto& t : (*j)["tokens"])
      std::printf("%-24s %-7s %-19s  %s\n", t.value("name", "").c_str(), t.value("role", "").c_str(),
                  utc_time(t.value("created_at", 0ll)).c_str(), t.value("created_by", "").c_str());
  } else {
    std::printf("revoked token \"%s\"\n", cmd.name.c_str());
  }
  return 0;
}

}  // namespace mailmoat::app
