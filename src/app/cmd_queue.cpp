#include "app/cmd_queue.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/admin_client.h"
#include "app/config.h"

namespace mailmoat::app {

void add_queue_command(CLI::App& app, QueueCommand& cmd) {
  auto* q = app.add_subcommand("queue", "Inspect and act on the queue of a running gateway");
  q->require_subcommand(1);
  q->fallthrough();  // --set, -c and --json may follow the action
  q->add_option("-c,--config", cmd.config_path, "Configuration file of the gateway");
  q->add_option("--set", cmd.overrides, "Override a configuration key (as given to serve)");
  q->add_flag("--json", cmd.json, "Print JSON");
  auto* list = q->add_subcommand("list", "List queued messages");
  list->callback([&cmd] { cmd.action = "list"; });
  for (const char* action : {"show", "hold", "release", "delete"}) {
    auto* sub = q->add_subcommand(action, std::string(action) + " one message");
    sub->add_option("id", cmd.id, "Queue id")->required();
    sub->callback([&cmd, action] { cmd.action = action; });
  }
  auto* retry = q->add_subcommand("retry", "Retry now: one message, --all, or --tls-failures");
  retry->add_option("id", cmd.id, "Queue id");
  retry->add_flag("--all", cmd.all, "Every deferred message");
  retry->add_flag("--tls-failures", cmd.tls_failures, "Messages deferred because a required TLS policy failed");
  retry->callback([&cmd] { cmd.action = "retry"; });
}

namespace {

std::string age(std::int64_t since) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto s = now - since;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  if (s < 172800) return std::to_string(s / 3600) + "h";
  return std::to_string(s / 86400) + "d";
}

void print_table(const nlohmann::json& messages) {
  std::printf("%-24s %-8s %9s %5s  %-28s %s\n", "ID", "STATE", "SIZE", "AGE", "SENDER", "RECIPIENTS / LAST REPLY");
  for (const auto& m : messages) {
    std::string sender = m.value("sender", "");
    std::printf("%-24s %-8s %9llu %5s  %-28s", m.value("id", "").c_str(), m.value("state", "").c_str(),
                static_cast<unsigned long long>(m.value("size", 0ull)), age(m.value("received_at", 0ll)).c_str(),
                sender.empty() ? "<>" : sender.c_str());
    bool first = true;
    for (const auto& r : m["recipients"]) {
      std::string line = r.value("address", "") + " (" + r.value("status", "") + ")";
      std::string reply = r.value("last_reply", "");
      if (!reply.empty()) line += ": " + reply;
      std::printf("%s%s\n", first ? " " : std::string(80, ' ').c_str(), line.c_str());
      first = false;
    }
    if (first) std::printf("\n");
  }
  std::printf("%zu message(s)\n", messages.size());
}

}  // namespace

int run_queue_command(const QueueCommand& cmd) {
  std::string method = "GET", target = "/api/v1/queue", body;
  if (cmd.action == "show") {
    target += "/" + cmd.id;
  } else if (cmd.action == "retry") {
    method = "POST";
    if (!cmd.id.empty()) {
      target += "/" + cmd.id + "/retry";
    } else if (cmd.all || cmd.tls_failures) {
      target += "/retry";
      body = nlohmann::json{{"tls_failures", cmd.tls_failures}}.dump();
    } else {
      (void)std::fprintf(stderr, "mailmoat: queue retry needs an ID, --all or --tls-failures\n");
      return 2;
    }
  } else if (cmd.action != "list") {
    method = "POST";
    target += "/" + cmd.id + "/" + cmd.action;
  }
  auto j = admin_call(cmd.config_path, cmd.overrides, method, target, body);
  if (!j) {
    (void)std::fprintf(stderr, "mailmoat: error: %s\n", j.error().message.c_str());
    return 1;
  }
  if (cmd.json || cmd.action != "list") {
    std::printf("%s\n", j->dump(2).c_str());
    return 0;
  }
  print_table((*j)["messages"]);
  return 0;
}

}  // namespace mailmoat::app
