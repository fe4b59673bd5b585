// The pool of `mailmoat analyze-worker` processes (issue 9, DESIGN.md §3).
// Each worker is forked and exec'd in new user, PID, network, mount and IPC
// namespaces where the kernel allows (falling back, with a logged warning,
// to fewer), dies with the gateway (PR_SET_PDEATHSIG), confines itself
// (worker.h) and serves jobs over a socketpair until recycled after
// `max_jobs`. A job that overruns its wall-clock deadline, or a worker that
// crashes or is killed by seccomp, costs one `scan error` verdict, never the
// gateway. `analyze` blocks: callers run it on their own threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "attachments/analyze.h"
#include "attachments/facts.h"

namespace mailmoat::attachments::sandbox {

struct SandboxSettings {
  std::string binary;  // the mailmoat executable (/proc/self/exe in the gateway)
  std::size_t workers = 2;
  std::size_t max_jobs = 100;
  std::chrono::milliseconds deadline{10000};
  std::uint64_t memory_mb = 1024;
  unsigned cpu_seconds = 60;
  std::string yara_file;                // compiled YARA rules ("" none)
  std::vector<std::string> extra_args;  // tests: --test-action ...
  // Content at least this large goes to the worker in a sealed memfd beside
  // the frame, not in it (the bench compares both; SIZE_MAX: always inline).
  std::size_t attach_from = 64 << 10;
};

struct PoolStats {
  std::uint64_t spawned = 0, jobs = 0, failures = 0, recycled = 0;
};

class WorkerPool {
 public:
  explicit WorkerPool(SandboxSettings settings);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // `deadline` (when shorter than the configured one) bounds this job.
  Analysis analyze(const AnalysisRequest& request, std::chrono::milliseconds deadline = {});
  PoolStats stats() const;
  // Namespaces the last worker got ("user,pid,net,mnt,ipc" or fewer, "none").
  std::string namespaces() const;

 private:
  struct Worker {
    int pid = -1;  // the process the pool waits for (in front of the PID namespace)
    int fd = -1;
    std::size_t jobs = 0;
  };
  bool spawn(Worker& out, std::string& error);
  void retire(Worker& w, bool kill);
  // `attach`: a descriptor sent with the frame's first bytes (the request's content), or -1.
  std::string exchange(Worker& w, const std::string& frame, std::string& reply,
                       std::chrono::milliseconds deadline = {}, int attach = -1);

  SandboxSettings settings_;
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  std::vector<Worker> idle_;
  std::size_t live_ = 0;
  PoolStats stats_;
  std::string namespaces_ = "none";
};

}  // namespace mailmoat::attachments::sandbox
