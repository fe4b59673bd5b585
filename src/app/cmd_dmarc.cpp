#include "app/cmd_dmarc.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "app/admin_client.h"

namespace mailmoat::app {

void add_dmarc_command(CLI::App& app, DmarcCommand& cmd) {
  auto* dmarc = app.add_subcommand("dmarc", "DMARC aggregate reports of a running gateway");
  dmarc->require_subcommand(1);
  dmarc->fallthrough();
  dmarc->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  dmarc->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  dmarc->add_flag("--json", cmd.json, "Print JSON");
  auto* report = dmarc->add_subcommand("report", "Send the aggregate reports of one day now");
  report->add_option("--day", cmd.day, "UTC day to report, YYYY-MM-DD (default: yesterday)");
  report->add_flag("--today", cmd.today, "Report today so far");
  report->callback([&cmd] { cmd.selected = true; });
}

void add_tlsrpt_command(CLI::App& app, DmarcCommand& cmd) {
  cmd.kind = "tlsrpt";
  auto* tlsrpt = app.add_subcommand("tlsrpt", "TLS-RPT aggregate reports (RFC 8460) of a running gateway");
  tlsrpt->require_subcommand(1);
  tlsrpt->fallthrough();
  tlsrpt->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  tlsrpt->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  tlsrpt->add_flag("--json", cmd.json, "Print JSON");
  auto* report = tlsrpt->add_subcommand("report", "Send the TLS-RPT reports of one day now");
  report->add_option("--day", cmd.day, "UTC day to report, YYYY-MM-DD (default: yesterday)");
  report->add_flag("--today", cmd.today, "Report today so far");
  report->callback([&cmd] { cmd.selected = true; });
}

int run_dmarc_command(const DmarcCommand& cmd) {
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  long long day = now / 86400 - 1;
  if (cmd.today) day = now / 86400;
  if (!cmd.day.empty()) {
    std::tm tm{};
    const char* end = strptime(cmd.day.c_str(), "%Y-%m-%d", &tm);
    if (!end || *end) {
      (void)std::fprintf(stderr, "mailmoat: --day: cannot read \"%s\" as YYYY-MM-DD\n", cmd.day.c_str());
      return 2;
    }
    day = static_cast<long long>(timegm(&tm)) / 86400;
  }
  const std::string path = "/api/v1/" + cmd.kind + "/reports";
  auto before = admin_call(cmd.config_path, cmd.overrides, "GET", path);
  if (!before) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", before.error().message.c_str());
    return 1;
  }
  const auto runs = before->value("runs", 0ull);
  nlohmann::json body{{"day", day}};
  auto started = admin_call_raw(cmd.config_path, cmd.overrides, "POST", path, body.dump());
  if (!started) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", started.error().message.c_str());
    return 1;
  }
  for (int i = 0; i < 600; ++i) {  // DNS lookups may take a while; give up after a minute
    auto st = admin_call(cmd.config_path, cmd.overrides, "GET", path);
    if (!st) {
      (void)std::fprintf(stderr, "mailmoat: error: %s\n", st.error().message.c_str());
      return 1;
    }
    if (!st->value("running", false) && st->value("runs", 0ull) > runs) {
      if (cmd.json) {
        std::printf("%s\n", st->dump(2).c_str());
        return 0;
      }
      for (const auto& o : (*st)["outcomes"])
        std::printf("%s  %s  %s\n", o.value("domain", "").c_str(), o.value("status", "").c_str(),
                    o.value("detail", "").c_str());
      std::printf("%zu domain(s) for day %lld\n", (*st)["outcomes"].size(), day);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (void)std::fprintf(stderr, "mailmoat: error: the report run did not finish within a minute\n");
  return 1;
}

}  // namespace mailmoat::app
