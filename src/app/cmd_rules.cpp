#include "app/cmd_rules.h"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/config.h"
#include "app/resolver_setup.h"
#include "app/rules_setup.h"
#include "app/rules_test.h"
#include "dns/zone_resolver.h"
#include "filters/auth/auth_filter.h"
#include "filters/rules/disclaimer.h"
#include "mail/message.h"
#include "pipeline/chain.h"
#include "policy/loader.h"

namespace mailmoat::app {

namespace asio = boost::asio;

void add_rules_command(CLI::App& app, RulesCommand& cmd) {
  auto* rules = app.add_subcommand("rules", "Check transport rules or try them on a message");
  rules->require_subcommand(1);
  auto* check = rules->add_subcommand("check", "Validate a rules file (errors as FILE:LINE: message)");
  check->add_option("file", cmd.file, "Rules file")->required();
  check->callback([&cmd] { cmd.action = "check"; });
  auto* test = rules->add_subcommand("test", "Run rules against one message and explain what would happen");
  test->add_option("--rules", cmd.file, "Rules file")->required();
  test->add_option("-c,--config", cmd.config_path, "Configuration ([smtp] accepted_domains, [rules], [verdict], [auth])");
  test->add_option("--ip", cmd.ip, "SMTP client address");
  test->add_option("--helo", cmd.helo, "HELO/EHLO name");
  test->add_option("--mail-from", cmd.mail_from, "Envelope sender");
  test->add_option("--rcpt", cmd.rcpts, "Envelope recipient (repeatable)")->allow_extra_args(false);
  test->add_option("--role", cmd.role, "Listener role the message arrived on")
      ->check(CLI::IsMember({"inbound", "relay", "submission"}));
  test->add_flag("--tls", cmd.tls, "The message arrived over TLS");
  test->add_flag("--auth-results-from-check", cmd.auth_from_check,
                 "Run SPF/DKIM/DMARC/ARC first (DNS from the configuration or --zone)");
  test->add_option("--zone", cmd.zones, "With --auth-results-from-check: answer DNS from this zone file (repeatable)");
  test->add_flag("--json", cmd.json, "Print the explanation as JSON");
  test->add_option("message", cmd.message, "Message file, or - for standard input");
  test->callback([&cmd] { cmd.action = "test"; });
}

namespace {

int check_file(const std::string& file) {
  auto loaded = policy::load_rules_file(file);
  for (const auto& e : loaded.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!loaded.rules) return 1;
  std::printf("%s: ok (%zu rules)\n", file.c_str(), loaded.rules->rules.size());
  return 0;
}

std::optional<std::string> read_message(const std::string& path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    ss << in.rdbuf();
  }
  std::string bytes = ss.str();
  return mail::needs_normalization(bytes) ? mail::normalize_line_endings(bytes) : bytes;
}

// Runs the auth filter on ctx as `mailmoat check` does; "" or an error.
std::string run_auth(const RulesCommand& cmd, const Config& cfg, pipeline::MessageContext& ctx) {
  asio::io_context io;
  std::unique_ptr<dns::Resolver> resolver;
  if (!cmd.zones.empty()) {
    auto zone = std::make_unique<dns::ZoneResolver>();
    for (const auto& f : cmd.zones)
      if (auto ok = zone->load_file(f); !ok) return ok.error().message;
    resolver = std::move(zone);
  } else {
    auto made = make_resolver(io, cfg.dns);
    if (!made) return made.error().message;
    resolver = std::move(*made);
  }
  filters::AuthConfig ac;
  ac.authserv_id = cfg.auth.authserv_id.empty() ? "mailmoat" : cfg.auth.authserv_id;
  ac.budget = std::chrono::milliseconds(cfg.dns.timeout_ms * 3);
  ac.handling.spam_confidence_level = static_cast<int>(cfg.auth.dmarc_spam_level);
  auto action = [](const std::string& a) {
    return a == "quarantine" ? auth::dmarc::Action::quarantine
           : a == "deliver_as_spam" ? auth::dmarc::Action::deliver_as_spam
                                    : auth::dmarc::Action::reject;
  };
  ac.handling.on_reject = action(cfg.auth.dmarc_on_reject);
  ac.handling.on_quarantine = action(cfg.auth.dmarc_on_quarantine);
  ac.scl_header = cfg.verdict.scl_header;
  auto clock = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  filters::AuthFilter filter(ac, *resolver, clock);
  std::optional<pipeline::Verdict> verdict;
  filter.on_message(ctx, [&](pipeline::Verdict v) { verdict = std::move(v); });
  while (!verdict && io.run_one() > 0) {
  }
  if (!verdict) return "the authentication checks did not finish";
  if (verdict->disposition != pipeline::Disposition::accept)
    ctx.notes.push_back({"auth", "verdict", std::string(verdict->disposition == pipeline::Disposition::reject ? "reject" :
                                                         verdict->disposition == pipeline::Disposition::quarantine ? "quarantine" : "tempfail") +
                                                " by DMARC handling: " + verdict->reason});
  return {};
}

}  // namespace

int run_rules_command(const RulesCommand& cmd) {
  if (cmd.action == "check") return check_file(cmd.file);
  auto loaded = policy::load_rules_file(cmd.file);
  for (const auto& e : loaded.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!loaded.rules) return 1;
  LoadResult cfg = load_config(cmd.config_path);
  for (const auto& e : cfg.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!cfg.ok()) return 1;
  auto message = read_message(cmd.message);
  if (!message) {
    (void)std::fprintf(stderr, "mailmoat: error: cannot read %s\n", cmd.message.c_str());
    return 1;
  }
  pipeline::MessageContext ctx =
      rules_test_context(cmd.role, cmd.ip, cmd.helo, cmd.tls, cmd.mail_from, cmd.rcpts, std::move(*message));
  if (cmd.auth_from_check)
    if (auto err = run_auth(cmd, cfg.config, ctx); !err.empty()) {
      (void)std::fprintf(stderr, "mailmoat: error: %s\n", err.c_str());
      return 1;
    }
  RulesTestOutcome outcome = run_rules_test(*loaded.rules, cfg.config, std::move(ctx));
  if (cmd.json) {
    std::printf("%s\n", rules_test_json(outcome).dump(2).c_str());
    return 0;
  }
  const auto& ev = outcome.evaluation;
  const auto& verdict = outcome.verdict;
  const std::string& reply = outcome.smtp_reply;
  std::vector<std::string> recipients;
  recipients.reserve(outcome.ctx.envelope.recipients.size());
  for (const auto& r : outcome.ctx.envelope.recipients) recipients.push_back(r.address);
  if (!outcome.attachments_note.empty()) std::printf("attachments: %s\n", outcome.attachments_note.c_str());
  if (ev.matched.empty()) std::printf("no rule matched\n");
  for (const auto& m : ev.matched) {
    std::printf("rule '%s' (priority %d)%s matched\n", m.rule.c_str(), m.priority, m.audit ? " [audit]" : "");
    for (const auto& b : m.because) std::printf("  because %s\n", b.c_str());
    for (const auto& a : m.actions) std::printf("  %s %s\n", m.audit ? "would" : "action:", a.c_str());
    if (m.stopped) std::printf("  (no further rules)\n");
  }
  for (const auto& n : outcome.ctx.notes)
    if (n.event != "rule_matched" && n.event != "rule_audit")
      std::printf("note: %s %s: %s\n", n.filter.c_str(), n.event.c_str(), n.detail.c_str());
  for (const auto& e : outcome.ctx.edits.headers)
    if (e.op == pipeline::HeaderEdit::Op::remove) std::printf("header: remove %s\n", e.name.c_str());
    else std::printf("header: %s: %s\n", e.name.c_str(), e.value.c_str());
  std::string rl;
  for (const auto& r : recipients) rl += (rl.empty() ? "" : ", ") + r;
  std::printf("recipients: %s\n", rl.empty() ? "(none given)" : rl.c_str());
  const auto& delivery = outcome.ctx.delivery;
  if (!delivery.route.empty()) std::printf("delivery: through route '%s'\n", delivery.route.c_str());
  if (delivery.require_tls) std::printf("delivery: verified TLS required\n");
  if (delivery.hold_until) std::printf("delivery: %s\n", delivery.hold_reason.c_str());
  std::printf("outcome: %s%s%s\n", disposition_name(verdict.disposition),
              verdict.reason.empty() ? "" : (" (" + verdict.reason + ")").c_str(),
              reply.empty() ? "" : (": " + reply).c_str());
  return 0;
}

}  // namespace mailmoat::app
