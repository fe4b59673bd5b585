#include "app/cmd_links.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "app/admin_client.h"
#include "app/cmd_trace.h"
#include "app/config.h"
#include "app/links_setup.h"
#include "links/token.h"

namespace mailmoat::app {

void add_links_command(CLI::App& app, LinksCommand& cmd) {
  auto* l = app.add_subcommand("links", "Safe Links: decode a rewritten link, read the URL trace");
  l->require_subcommand(1);
  l->fallthrough();
  l->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  l->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  l->add_flag("--json", cmd.json, "Print JSON");
  auto* decode = l->add_subcommand("decode", "Print the original URL of a Safe Link and whether its signature is valid");
  decode->add_option("url", cmd.url, "The rewritten link")->required();
  decode->callback([&cmd] { cmd.action = "decode"; });
  auto* trace = l->add_subcommand("trace", "Clicks on rewritten links, newest first");
  trace->add_option("--recipient", cmd.recipient, "Recipient; * matches any run of characters");
  trace->add_option("--url-contains", cmd.url_contains, "Only URLs containing this text");
  trace->add_option("--since", cmd.since, "At or after: 2026-11-28T10:00:00Z, 2026-11-28 or an age (2h, 7d)");
  trace->callback([&cmd] { cmd.action = "trace"; });
}

namespace {

std::string encode_query(const std::string& s) { return links::percent_encode(s); }

int decode(const LinksCommand& cmd) {
  auto parsed = links::parse_link(cmd.url);
  if (!parsed) {
    (void)std::fprintf(stderr, "mailmoat: not a Safe Link: %s\n", parsed.error().message.c_str());
    return 2;
  }
  LoadResult loaded = load_config(cmd.config_path, cmd.overrides);
  for (const auto& e : loaded.errors) (void)std::fprintf(stderr, "%s\n", e.to_string().c_str());
  if (!loaded.ok()) return 1;
  bool valid = false;
  std::string why;
  auto keys = link_keys(loaded.config, false);
  if (keys) {
    auto signer = links::LinkSigner::create("https://verify.invalid", *keys);
    if (signer) valid = signer->verify(*parsed);
    else why = signer.error().message;
  } else {
    why = keys.error().message;
  }
  if (cmd.json) {
    nlohmann::json j{{"url", parsed->fields.url}, {"message", parsed->fields.message},
                     {"recipient", parsed->fields.recipient}, {"signature_valid", valid}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("url:       %s\nmessage:   %s\nrecipient: %s\nsignature: %s\n", parsed->fields.url.c_str(),
                parsed->fields.message.c_str(), parsed->fields.recipient.c_str(),
                valid ? "valid" : ("INVALID" + (why.empty() ? std::string() : " (" + why + ")")).c_str());
  }
  return valid ? 0 : 1;
}

std::string when(long long micros) {
  std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  char buf[32];
  if (!gmtime_r(&t, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) return "(time out of range)";
  return buf;
}

int trace(const LinksCommand& cmd) {
  long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  std::string q;
  auto add = [&q](const char* k, const std::string& v) {
    if (!v.empty()) q += (q.empty() ? "?" : "&") + std::string(k) + "=" + encode_query(v);
  };
  add("recipient", cmd.recipient);
  add("url_contains", cmd.url_contains);
  if (!cmd.since.empty()) {
    auto t = parse_time_arg(cmd.since, now);
    if (!t) {
      (void)std::fprintf(stderr, "mailmoat: --since: cannot read \"%s\" as a time\n", cmd.since.c_str());
      return 2;
    }
    add("since", std::to_string(*t));
  }
  auto j = admin_call(cmd.config_path, cmd.overrides, "GET", "/api/v1/clicks" + q);
  if (!j) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", j.error().message.c_str());
    return 1;
  }
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  std::printf("%-19s  %-15s %-10s %-26s %s\n", "TIME (UTC)", "ACTION", "VERDICT", "RECIPIENT", "URL");
  for (const auto& c : (*j)["clicks"])
    std::printf("%-19s  %-15s %-10s %-26s %s\n", when(c.value("at", 0ll)).c_str(), c.value("action", "").c_str(),
                c.value("verdict", "").c_str(), c.value("recipient", "").c_str(), c.value("url", "").c_str());
  std::printf("%zu click(s)%s\n", (*j)["clicks"].size(),
              j->value("next_cursor", "").empty() ? "" : " (more: use --json for the cursor)");
  return 0;
}

}  // namespace

int run_links_command(const LinksCommand& cmd) { return cmd.action == "decode" ? decode(cmd) : trace(cmd); }

}  // namespace mailmoat::app
