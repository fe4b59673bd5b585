#include "app/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "app/cmd_admin.h"
#include "app/cmd_analyze_worker.h"
#include "app/cmd_check.h"
#include "app/cmd_dkim.h"
#include "app/cmd_dmarc.h"
#include "app/cmd_links.h"
#include "app/cmd_quarantine.h"
#include "app/cmd_queue.h"
#include "app/cmd_rules.h"
#include "app/cmd_trace.h"
#include "app/config.h"
#include "app/serve.h"

namespace mailmoat::app {

namespace {

int config_check(const std::string& file) {
  LoadResult r = load_config(file);
  for (const auto& e : r.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!r.ok()) return 1;
  std::printf("%s: ok\n", file.c_str());
  return 0;
}

int config_show(const std::string& file, const std::vector<std::string>& overrides) {
  LoadResult r = load_config(file, overrides);
  for (const auto& e : r.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!r.ok()) return 1;
  const std::string text = render_config(r.config);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    (void)std::fprintf(stderr, "mailmoat: error: cannot write to standard output\n");
    return 1;
  }
  return 0;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"mailmoat: an email security gateway", "mailmoat"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every subcommand");

  ServeOptions serve_opts;
  std::string log_format;
  auto* serve_cmd = app.add_subcommand("serve", "Run the gateway");
  serve_cmd->add_option("-c,--config", serve_opts.config_path, "Configuration file (TOML)")->check(CLI::ExistingFile);
  serve_cmd->add_option("--set", serve_opts.overrides, "Override a key: --set smtp.listener.0.address=127.0.0.1:2526");
  serve_cmd->add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  serve_cmd->add_option("--ready-file", serve_opts.ready_file, "Write the bound addresses (JSON) here when ready");

  auto* config_cmd = app.add_subcommand("config", "Check or show the configuration");
  config_cmd->require_subcommand(1);
  std::string check_file;
  auto* check_cmd = config_cmd->add_subcommand("check", "Validate a configuration file");
  check_cmd->add_option("file", check_file, "Configuration file")->required();
  std::string show_file;
  std::vector<std::string> show_overrides;
  auto* show_cmd = config_cmd->add_subcommand("show", "Print the effective configuration");
  show_cmd->add_option("-c,--config", show_file, "Configuration file (TOML)");
  show_cmd->add_option("--set", show_overrides, "Override a key");

  QueueCommand queue_cmd;
  add_queue_command(app, queue_cmd);
  TraceCommand trace_cmd;
  add_trace_command(app, trace_cmd);
  QuarantineCommand quarantine_cmd;
  add_quarantine_command(app, quarantine_cmd);
  AdminCommand admin_cmd;
  add_admin_command(app, admin_cmd);
  DmarcCommand dmarc_cmd;
  add_dmarc_command(app, dmarc_cmd);
  DmarcCommand tlsrpt_cmd;
  add_tlsrpt_command(app, tlsrpt_cmd);
  CheckCommand check_msg_cmd;
  add_check_command(app, check_msg_cmd);

  DkimCommand dkim_cmd;
  add_dkim_commands(app, dkim_cmd);
  RulesCommand rules_cmd;
  add_rules_command(app, rules_cmd);
  LinksCommand links_cmd;
  add_links_command(app, links_cmd);

  AnalyzeWorkerCommand analyze_worker_cmd;
  add_analyze_worker_command(app, analyze_worker_cmd);

  auto* version_cmd = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    std::cerr << "\n" << app.help();
    return 2;
  }

  if (*version_cmd) {
    std::printf("mailmoat %s\n", MAILMOAT_VERSION);
    return 0;
  }
  if (*check_cmd) return config_check(check_file);
  if (!queue_cmd.action.empty()) return run_queue_command(queue_cmd);
  if (!trace_cmd.action.empty()) return run_trace_command(trace_cmd);
  if (!quarantine_cmd.action.empty()) return run_quarantine_command(quarantine_cmd);
  if (!admin_cmd.action.empty()) return run_admin_command(admin_cmd);
  if (dmarc_cmd.selected) return run_dmarc_command(dmarc_cmd);
  if (tlsrpt_cmd.selected) return run_dmarc_command(tlsrpt_cmd);
  if (check_msg_cmd.selected) return run_check_command(check_msg_cmd);
  if (!dkim_cmd.action.empty()) return run_dkim_command(dkim_cmd);
  if (!rules_cmd.action.empty()) return run_rules_command(rules_cmd);
  if (!links_cmd.action.empty()) return run_links_command(links_cmd);
  if (analyze_worker_cmd.selected) return run_analyze_worker_command(analyze_worker_cmd);
  if (*show_cmd) return config_show(show_file, show_overrides);
  if (*serve_cmd) {
    if (!log_format.empty()) serve_opts.log_format = log_format;
    return serve(serve_opts);
  }
  return 2;
}

}  // namespace mailmoat::app
