// The `mailmoat analyze-worker` process (issue 9, DESIGN.md §3): reads
// analysis requests from a socketpair, runs the static analyzers, writes the
// verdicts back, and can do nothing else: before the first request it sets
// rlimits (CPU, file size, processes; address space outside ASan builds) and
// a seccomp-bpf allow-list (libseccomp) without socket creation, exec, fork
// or opening files for writing. Namespaces are set up by the pool before exec.
#pragma once

#include <cstdint>
#include <string>

namespace mailmoat::attachments::sandbox {

struct WorkerOptions {
  int fd = 3;                     // the worker's end of the socketpair
  std::uint64_t memory_mb = 1024; // RLIMIT_AS (ASan builds: the allocator's limit)
  unsigned cpu_seconds = 60;      // RLIMIT_CPU over the worker's life (the pool recycles it)
  std::string yara_file;          // compiled YARA rules, loaded before confinement; "" none
  // Tests only: on each request, try a forbidden action first (socket, write,
  // exec, allocate, sleep) to prove the sandbox stops it.
  std::string test_action;
};

// Confines the process (rlimits + seccomp); an error says which step failed.
std::string confine(const WorkerOptions& options);

// Confines the process, then serves requests until the gateway closes the
// socket; never returns (ends with _exit).
[[noreturn]] int run_worker(const WorkerOptions& options);

}  // namespace mailmoat::attachments::sandbox
