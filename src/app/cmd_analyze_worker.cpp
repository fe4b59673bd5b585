#include "app/cmd_analyze_worker.h"

#include <CLI/CLI.hpp>

namespace mailmoat::app {

void add_analyze_worker_command(CLI::App& app, AnalyzeWorkerCommand& cmd) {
  auto* sub = app.add_subcommand("analyze-worker", "Sandboxed attachment analysis worker (started by serve)");
  sub->add_option("--fd", cmd.options.fd, "Socket file descriptor to serve");
  sub->add_option("--memory-mb", cmd.options.memory_mb, "Memory limit");
  sub->add_option("--yara", cmd.options.yara_file, "Compiled YARA rules to load");
  sub->add_option("--cpu-seconds", cmd.options.cpu_seconds, "CPU time limit over the worker's life");
  sub->add_option("--test-action", cmd.options.test_action, "Tests only: try a forbidden action per job")
      ->check(CLI::IsMember({"socket", "write", "exec", "allocate", "sleep"}));
  sub->callback([&cmd] { cmd.selected = true; });
}

int run_analyze_worker_command(const AnalyzeWorkerCommand& cmd) {
  return attachments::sandbox::run_worker(cmd.options);
}

}  // namespace mailmoat::app
