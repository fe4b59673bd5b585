// `mailmoat analyze-worker`: the sandboxed attachment analysis process the
// gateway starts (src/attachments/sandbox/). Not meant to be run by hand: it
// speaks the length-prefixed protocol on the file descriptor it is given.
#pragma once

#include "attachments/sandbox/worker.h"

namespace CLI {
class App;
}

namespace mailmoat::app {

struct AnalyzeWorkerCommand {
  bool selected = false;
  attachments::sandbox::WorkerOptions options;
};

void add_analyze_worker_command(CLI::App& app, AnalyzeWorkerCommand& cmd);
int run_analyze_worker_command(const AnalyzeWorkerCommand& cmd);

}  // namespace mailmoat::app
