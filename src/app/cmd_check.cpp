#include "app/cmd_check.h"

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "app/config.h"
#include "app/resolver_setup.h"
#include "auth/authres/authres.h"
#include "auth/dmarc/psl.h"
#include "dns/zone_resolver.h"
#include "filters/auth/auth_filter.h"
#include "mail/message.h"
#include "pipeline/chain.h"

namespace mailmoat::app {

namespace asio = boost::asio;

void add_check_command(CLI::App& app, CheckCommand& cmd) {
  auto* c = app.add_subcommand("check", "Print the Authentication-Results mailmoat would add to a message");
  c->add_option("-c,--config", cmd.config_path, "Configuration file ([dns] and [auth] are used)");
  c->add_option("--zone", cmd.zones, "Answer DNS only from this RFC 1035 zone file (repeatable; offline)");
  c->add_option("--ip", cmd.ip, "SMTP client address (SPF, iprev)");
  c->add_option("--helo", cmd.helo, "HELO/EHLO name");
  c->add_option("--mail-from", cmd.mail_from, "Envelope sender (MAIL FROM)");
  c->add_flag("--rfc7489", cmd.rfc7489, "DMARC per RFC 7489 with the Public Suffix List");
  c->add_flag("--json", cmd.json, "Print every result with its reasons as JSON");
  c->add_option("message", cmd.message, "Message file, or - for standard input");
  c->callback([&cmd] { cmd.selected = true; });
}

namespace {

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

// The first header field of `message` (our Authentication-Results), unfolded lines kept.
std::string first_field(const std::string& message) {
  std::size_t end = 0;
  for (;;) {
    std::size_t eol = message.find("\r\n", end);
    if (eol == std::string::npos) return message;
    end = eol + 2;
    if (end >= message.size() || (message[end] != ' ' && message[end] != '\t')) return message.substr(0, eol);
  }
}

nlohmann::json to_json(const auth::authres::AuthenticationResults& ar) {
  nlohmann::json methods = nlohmann::json::array();
  for (const auto& m : ar.results) {
    nlohmann::json props = nlohmann::json::object();
    for (const auto& p : m.properties) props[p.ptype.empty() ? p.name : p.ptype + "." + p.name] = p.value;
    methods.push_back({{"method", m.method}, {"result", m.result}, {"reason", m.comment.empty() ? m.reason : m.comment},
                       {"properties", props}});
  }
  return {{"authserv_id", ar.authserv_id}, {"results", methods}};
}

}  // namespace

int run_check_command(const CheckCommand& cmd) {
  LoadResult cfg = load_config(cmd.config_path);
  for (const auto& e : cfg.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!cfg.ok()) return 1;
  auto message = read_message(cmd.message);
  if (!message) {
    (void)std::fprintf(stderr, "mailmoat: error: cannot read %s\n", cmd.message.c_str());
    return 1;
  }

  asio::io_context io;
  std::unique_ptr<dns::Resolver> resolver;
  if (!cmd.zones.empty()) {
    auto zone = std::make_unique<dns::ZoneResolver>();
    for (const auto& f : cmd.zones)
      if (auto ok = zone->load_file(f); !ok) {
        (void)std::fprintf(stderr, "mailmoat: error: %s\n", ok.error().message.c_str());
        return 1;
      }
    resolver = std::move(zone);
  } else {
    auto made = make_resolver(io, cfg.config.dns);
    if (!made) {
      (void)std::fprintf(stderr, "mailmoat: error: %s\n", made.error().message.c_str());
      return 1;
    }
    resolver = std::move(*made);
  }
  std::optional<auth::dmarc::PublicSuffixList> psl;
  if (cmd.rfc7489 || cfg.config.auth.dmarc_mode == "rfc7489") {
    auto loaded = auth::dmarc::PublicSuffixList::system();
    if (!loaded) {
      (void)std::fprintf(stderr, "mailmoat: error: %s\n", loaded.error().message.c_str());
      return 1;
    }
    psl.emplace(std::move(*loaded));
  }

  filters::AuthConfig ac;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  ac.authserv_id = cfg.config.auth.authserv_id.empty() ? host : cfg.config.auth.authserv_id;
  ac.spf = cfg.config.auth.spf;
  ac.dkim = cfg.config.auth.dkim;
  ac.dmarc = cfg.config.auth.dmarc;
  ac.arc = cfg.config.auth.arc;
  ac.iprev = cfg.config.auth.iprev;
  ac.dmarc_options.mode = psl ? auth::dmarc::Mode::rfc7489 : auth::dmarc::Mode::rfc9989;
  ac.dmarc_options.psl = psl ? &*psl : nullptr;
  ac.budget = std::chrono::milliseconds(cfg.config.dns.timeout_ms * 3);
  auto clock = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  auto scheduler = [&io](std::chrono::milliseconds delay, std::move_only_function<void()> fn) {
    auto timer = std::make_shared<asio::steady_timer>(io, delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) mutable {
      if (!ec) fn();
    });
  };
  filters::AuthFilter filter(ac, *resolver, clock, scheduler);

  pipeline::MessageContext ctx;
  ctx.connection.role = "inbound";
  ctx.connection.client_address = cmd.ip;
  ctx.connection.helo = cmd.helo;
  ctx.envelope.sender = cmd.mail_from;
  ctx.message = *message;
  std::optional<pipeline::Verdict> verdict;
  filter.on_message(ctx, [&](pipeline::Verdict v) { verdict = std::move(v); });
  while (!verdict && io.run_one() > 0) {
  }
  if (!verdict) {
    (void)std::fprintf(stderr, "mailmoat: error: the checks did not finish\n");
    return 1;
  }
  std::string field = first_field(ctx.message);
  const char* action = verdict->disposition == pipeline::Disposition::reject       ? "reject"
                       : verdict->disposition == pipeline::Disposition::tempfail   ? "tempfail"
                       : verdict->disposition == pipeline::Disposition::quarantine ? "quarantine"
                                                                                   : "accept";
  if (cmd.json) {
    auto parsed = auth::authres::parse(field.substr(field.find(':') + 1));
    nlohmann::json j = parsed ? to_json(*parsed) : nlohmann::json{{"error", parsed.error().message}};
    j["action"] = action;
    if (verdict->code) j["smtp_reply"] = std::to_string(verdict->code) + " " + verdict->enhanced + " " + verdict->text;
    for (const auto& e : ctx.edits.headers) j["headers_added"][e.name] = e.value;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s\n", field.c_str());
    if (verdict->disposition != pipeline::Disposition::accept)
      (void)std::fprintf(stderr, "action: %s%s\n", action,
                   verdict->code ? (" (" + std::to_string(verdict->code) + " " + verdict->enhanced + " " + verdict->text + ")").c_str() : "");
  }
  return 0;
}

}  // namespace mailmoat::app
