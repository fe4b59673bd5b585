#include "app/cmd_quarantine.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "app/admin_client.h"
#include "app/cmd_trace.h"

namespace mailmoat::app {

void add_quarantine_command(CLI::App& app, QuarantineCommand& cmd) {
  auto* q = app.add_subcommand("quarantine", "List, inspect, release or delete quarantined messages");
  q->require_subcommand(1);
  q->fallthrough();
  q->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  q->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  q->add_flag("--json", cmd.json, "Print JSON");
  auto* list = q->add_subcommand("list", "Quarantined messages, newest first");
  list->add_option("--state", cmd.state, "held (default), released, deleted or all");
  list->add_option("--reason", cmd.reason, "spam, phish, malware, spoof, rule, ...");
  list->add_option("--sender", cmd.sender, "Envelope sender; * matches any run of characters");
  list->add_option("--recipient", cmd.recipient, "Recipient; * matches any run of characters");
  list->add_option("--since", cmd.since, "Quarantined at or after: 2026-11-28T10:00:00Z, 2026-11-28 or an age (2h, 7d)");
  list->callback([&cmd] { cmd.action = "list"; });
  auto* show = q->add_subcommand("show", "One quarantined message: why, from whom, to whom");
  show->add_option("id", cmd.id, "Quarantine id")->required();
  show->callback([&cmd] { cmd.action = "show"; });
  auto* release = q->add_subcommand("release", "Deliver a quarantined message (to all or some recipients)");
  release->add_option("id", cmd.id, "Quarantine id")->required();
  release->add_option("--to", cmd.to, "Release only to this recipient (repeatable)");
  release->callback([&cmd] { cmd.action = "release"; });
  auto* del = q->add_subcommand("delete", "Delete a quarantined message");
  del->add_option("id", cmd.id, "Quarantine id")->required();
  del->callback([&cmd] { cmd.action = "delete"; });
  auto* download = q->add_subcommand("download", "Write the message as received to a .eml file");
  download->add_option("id", cmd.id, "Quarantine id")->required();
  download->add_option("-o,--output", cmd.output, "File to write (default: quarantine-ID.eml)");
  download->callback([&cmd] { cmd.action = "download"; });
  auto* preview = q->add_subcommand("preview", "Headers, text and attachments of a quarantined message, shown safely");
  preview->add_option("id", cmd.id, "Quarantine id")->required();
  preview->callback([&cmd] { cmd.action = "preview"; });
  auto* allow = q->add_subcommand("allow-sender", "Add the message's sender to the shared sender allow list");
  allow->add_option("id", cmd.id, "Quarantine id")->required();
  allow->callback([&cmd] { cmd.action = "allow-sender"; });
  auto* fp = q->add_subcommand("false-positive", "Report a quarantined message as a false positive");
  fp->add_option("id", cmd.id, "Quarantine id")->required();
  fp->add_option("--note", cmd.note, "Why it is not spam");
  fp->callback([&cmd] { cmd.action = "false-positive"; });
  auto* digest = q->add_subcommand("digest", "Send the end-user quarantine digests (once a day unless --now)");
  digest->add_flag("--now", cmd.now, "Send now even if today's digest was sent");
  digest->callback([&cmd] { cmd.action = "digest"; });
  auto* requests = q->add_subcommand("requests", "Release requests made from digest links");
  requests->callback([&cmd] { cmd.action = "requests"; });
}

namespace {

int fail(const std::string& message) {
  (void)std::fprintf(stderr, "mailmoat: error: %s\n", message.c_str());
  return 1;
}

std::string recipients_text(const nlohmann::json& list) {
  std::string out;
  for (const auto& r : list) out += (out.empty() ? "" : ", ") + r.get<std::string>();
  return out;
}

int run_list(const QuarantineCommand& cmd) {
  std::string q;
  auto add = [&q](const char* k, const std::string& v) {
    if (!v.empty()) q += (q.empty() ? "?" : "&") + std::string(k) + "=" + query_escape(v);
  };
  add("state", cmd.state.empty() ? "held" : cmd.state == "all" ? "" : cmd.state);
  add("reason", cmd.reason);
  add("sender", cmd.sender);
  add("recipient", cmd.recipient);
  if (!cmd.since.empty()) {
    long long now = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    auto t = parse_time_arg(cmd.since, now);
    if (!t) {
      (void)std::fprintf(stderr, "mailmoat: --since: cannot read \"%s\" as a time\n", cmd.since.c_str());
      return 2;
    }
    add("since", std::to_string(*t));
  }
  auto j = admin_call(cmd.config_path, cmd.overrides, "GET", "/api/v1/quarantine" + q);
  if (!j) return fail(j.error().message);
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  std::printf("%-6s %-19s  %-8s %-8s %-28s %s\n", "ID", "QUARANTINED (UTC)", "STATE", "REASON", "SENDER",
              "RECIPIENTS / SUBJECT");
  for (const auto& i : (*j)["items"])
    std::printf("%-6lld %-19s  %-8s %-8s %-28s %s / %s\n", i.value("id", 0ll), utc_time(i.value("created_at", 0ll)).c_str(),
                i.value("state", "").c_str(), i.value("reason", "").c_str(), i.value("sender", "").c_str(),
                recipients_text(i["recipients"]).c_str(), i.value("subject", "").c_str());
  std::printf("%zu message(s)\n", (*j)["items"].size());
  return 0;
}

void print_preview(const nlohmann::json& p) {
  for (const auto& h : p["headers"])
    std::printf("%s: %s\n", h.value("name", "").c_str(), h.value("value", "").c_str());
  std::string text = p.value("text", "");
  bool from_html = text.empty() && !p.value("html_as_text", "").empty();
  if (from_html) text = p.value("html_as_text", "");
  std::printf("\n%s%s\n", from_html ? "[HTML shown as text]\n" : "", text.c_str());
  if (!p["attachments"].empty()) std::printf("\nAttachments:\n");
  for (const auto& a : p["attachments"])
    std::printf("  %-32s %-28s %10llu bytes  %-12s sha256=%s\n", a.value("name", "").c_str(),
                a.value("type", "").c_str(), a.value("size", 0ull), a.value("verdict", "").c_str(),
                a.value("sha256", "").c_str());
  if (p.value("truncated", false)) std::printf("(preview truncated)\n");
}

int run_digest(const QuarantineCommand& cmd) {
  nlohmann::json body{{"now", cmd.now}};
  auto j = admin_call(cmd.config_path, cmd.overrides, "POST", "/api/v1/quarantine/digest", body.dump());
  if (!j) return fail(j.error().message);
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
  } else if (!j->value("sent", false)) {
    std::printf("today's digest was already sent (use --now to send again)\n");
  } else {
    std::printf("sent digests to %lld recipient(s) listing %lld item(s)\n", j->value("recipients", 0ll),
                j->value("items", 0ll));
  }
  return 0;
}

int run_requests(const QuarantineCommand& cmd) {
  auto j = admin_call(cmd.config_path, cmd.overrides, "GET", "/api/v1/quarantine/requests");
  if (!j) return fail(j.error().message);
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  for (const auto& r : (*j)["items"])
    std::printf("%-6lld %-19s  %-8s %-8s %-28s %s (release: mailmoat quarantine release %lld --to %s)\n",
                r.value("id", 0ll), utc_time(r.value("at", 0ll)).c_str(), r.value("state", "").c_str(),
                r.value("reason", "").c_str(), r.value("recipient", "").c_str(), r.value("subject", "").c_str(),
                r.value("id", 0ll), r.value("recipient", "").c_str());
  std::printf("%zu request(s)\n", (*j)["items"].size());
  return 0;
}

}  // namespace

int run_quarantine_command(const QuarantineCommand& cmd) {
  if (cmd.action == "list") return run_list(cmd);
  if (cmd.action == "digest") return run_digest(cmd);
  if (cmd.action == "requests") return run_requests(cmd);
  const std::string base = "/api/v1/quarantine/" + query_escape(cmd.id);
  if (cmd.action == "download") {
    auto raw = admin_call_raw(cmd.config_path, cmd.overrides, "GET", base + "/message");
    if (!raw) return fail(raw.error().message);
    std::string path = cmd.output.empty() ? "quarantine-" + cmd.id + ".eml" : cmd.output;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!(out << *raw) || !out.flush()) return fail("cannot write " + path);
    std::printf("wrote %s (%zu bytes)\n", path.c_str(), raw->size());
    return 0;
  }
  util::Result<nlohmann::json> j = util::fail("");
  if (cmd.action == "show") {
    j = admin_call(cmd.config_path, cmd.overrides, "GET", base);
  } else if (cmd.action == "preview") {
    j = admin_call(cmd.config_path, cmd.overrides, "GET", base + "/preview");
  } else if (cmd.action == "allow-sender") {
    j = admin_call(cmd.config_path, cmd.overrides, "POST", base + "/allow-sender", "{}");
  } else if (cmd.action == "false-positive") {
    nlohmann::json body = nlohmann::json::object();
    if (!cmd.note.empty()) body["note"] = cmd.note;
    j = admin_call(cmd.config_path, cmd.overrides, "POST", base + "/false-positive", body.dump());
  } else if (cmd.action == "release") {
    nlohmann::json body = nlohmann::json::object();
    if (!cmd.to.empty()) body["to"] = cmd.to;
    j = admin_call(cmd.config_path, cmd.overrides, "POST", base + "/release", body.dump());
  } else {
    j = admin_call(cmd.config_path, cmd.overrides, "POST", base + "/delete", "{}");
  }
  if (!j) return fail(j.error().message);
  if (cmd.json) {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  if (cmd.action == "preview") {
    print_preview(*j);
  } else if (cmd.action == "allow-sender") {
    std::printf("added %s to the sender allow list (honoured when SPF or DMARC passes)\n",
                j->value("sender", "").c_str());
  } else if (cmd.action == "false-positive") {
    std::printf("reported quarantine item %s as a false positive\n", cmd.id.c_str());
  } else if (cmd.action == "release") {
    std::printf("released quarantine item %s to %s as queue id %s\n", cmd.id.c_str(),
                recipients_text((*j)["recipients"]).c_str(), j->value("queue_id", "").c_str());
  } else if (cmd.action == "delete") {
    std::printf("deleted quarantine item %s\n", cmd.id.c_str());
  } else {
    const auto& i = *j;
    std::printf("Quarantine item %lld (%s)\n", i.value("id", 0ll), i.value("state", "").c_str());
    std::printf("  reason:      %s\n  policy:      %s\n", i.value("reason", "").c_str(), i.value("policy", "").c_str());
    std::printf("  from:        %s\n  to:          %s\n", i.value("sender", "").c_str(),
                recipients_text(i["recipients"]).c_str());
    std::printf("  subject:     %s\n  size:        %lld bytes\n", i.value("subject", "").c_str(), i.value("size", 0ll));
    std::printf("  quarantined: %s UTC\n  expires:     %s UTC\n", utc_time(i.value("created_at", 0ll)).c_str(),
                utc_time(i.value("expires_at", 0ll)).c_str());
    std::printf("  message:     %s (trace: mailmoat trace show %s)\n", i.value("queue_id", "").c_str(),
                i.value("queue_id", "").c_str());
    if (i.contains("state_changed_by"))
      std::printf("  %s by %s at %s UTC\n", i.value("state", "").c_str(), i.value("state_changed_by", "").c_str(),
                  utc_time(i.value("state_changed_at", 0ll)).c_str());
  }
  return 0;
}

}  // namespace mailmoat::app
