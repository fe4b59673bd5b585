#include "attachments/sandbox/pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "attachments/sandbox/ipc.h"
#include "log/log.h"
#include "util/errno_message.h"

extern char** environ;

namespace mailmoat::attachments::sandbox {
namespace {

constexpr int kNamespaceSets[] = {
    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC,
    CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC,  // root without user namespaces
    CLONE_NEWNET | CLONE_NEWIPC,
    0};

std::string namespace_names(int flags) {
  std::string out;
  auto add = [&](int f, const char* n) {
    if (flags & f) out += (out.empty() ? "" : ",") + std::string(n);
  };
  add(CLONE_NEWUSER, "user");
  add(CLONE_NEWPID, "pid");
  add(CLONE_NEWNET, "net");
  add(CLONE_NEWNS, "mnt");
  add(CLONE_NEWIPC, "ipc");
  return out.empty() ? "none" : out;
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) status = 128 + WTERMSIG(status);
  else if (WIFEXITED(status)) status = WEXITSTATUS(status);
  if (status > 128) {
    int sig = status - 128;
    std::string name = sig == SIGSYS ? "SIGSYS, a forbidden system call" : sigabbrev_np(sig) ? sigabbrev_np(sig) : "?";
    return "killed by signal " + std::to_string(sig) + " (" + name + ")";
  }
  return "exited with status " + std::to_string(status);
}

// In the forked child: only async-signal-safe calls until execve.
[[noreturn]] void child(int fd, char** argv, char** envp) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (fd != 3) {
    dup2(fd, 3);
    close(fd);
  } else {
    fcntl(3, F_SETFD, 0);
  }
  close_range(4, ~0U, 0);
  int got = 0;
  for (int set : kNamespaceSets)
    if (set == 0 || unshare(set) == 0) {
      got = set;
      break;
    }
  unsigned char hello[5] = {0, 0, 0, 1, static_cast<unsigned char>(0)};
  int bits = (got & CLONE_NEWUSER ? 1 : 0) | (got & CLONE_NEWPID ? 2 : 0) | (got & CLONE_NEWNET ? 4 : 0) |
             (got & CLONE_NEWNS ? 8 : 0) | (got & CLONE_NEWIPC ? 16 : 0);
  hello[4] = static_cast<unsigned char>(bits);
  (void)!write(3, hello, sizeof hello);
  if (got & CLONE_NEWPID) {
    // The new PID namespace applies to children: the worker is its PID 1,
    // this process waits for it and dies with it (and it with this one).
    pid_t worker = fork();
    if (worker == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      execve(argv[0], argv, envp);
      _exit(127);
    }
    close(3);
    int status = 0;
    while (worker > 0 && waitpid(worker, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WIFEXITED(status) ? WEXITSTATUS(status) : 126);
  }
  execve(argv[0], argv, envp);
  _exit(127);
}

bool wait_fd(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

// A read-only (sealed) memfd holding `content`; -1 when the kernel has none.
int sealed_memfd(std::string_view content) {
  int fd = memfd_create("mailmoat-attachment", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  while (!content.empty()) {
    ssize_t n = write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (!content.empty() || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// send() of the first bytes of a frame with `fd` attached (SCM_RIGHTS).
ssize_t send_with_fd(int socket, std::string_view data, int fd) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(socket, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

WorkerPool::WorkerPool(SandboxSettings settings) : settings_(std::move(settings)) {}

WorkerPool::~WorkerPool() {
  std::lock_guard lock(mutex_);
  for (auto& w : idle_) retire(w, false);
  idle_.clear();
}

bool WorkerPool::spawn(Worker& out, std::string& error) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error = std::string("socketpair: ") + util::errno_message(errno);
    return false;
  }
  // Everything the child needs is built before fork (no allocation after it).
  std::vector<std::string> args{settings_.binary, "analyze-worker", "--fd", "3", "--memory-mb",
                                std::to_string(settings_.memory_mb), "--cpu-seconds",
                                std::to_string(settings_.cpu_seconds)};
  if (!settings_.yara_file.empty()) {
    args.push_back("--yara");
    args.push_back(settings_.yara_file);
  }
  args.insert(args.end(), settings_.extra_args.begin(), settings_.extra_args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env.emplace_back(*e);
  const char* asan = getenv("ASAN_OPTIONS");
  // Sanitizer builds: the allocator enforces the memory limit (RLIMIT_AS
  // cannot hold ASan's shadow), and LeakSanitizer, which needs ptrace, is off.
  env.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                "detect_leaks=0:allocator_may_return_null=1:malloc_limit_mb=" + std::to_string(settings_.memory_mb));
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    error = std::string("fork: ") + util::errno_message(errno);
    close(sv[0]);
    close(sv[1]);
    return false;
  }
  if (pid == 0) child(sv[1], argv.data(), envp.data());
  close(sv[1]);
  out = Worker{pid, sv[0], 0};
  std::string hello;
  if (exchange(out, "", hello) != "" || hello.size() != 1) {
    error = "worker did not start";
    retire(out, true);
    return false;
  }
  int bits = static_cast<unsigned char>(hello[0]);
  int flags = (bits & 1 ? CLONE_NEWUSER : 0) | (bits & 2 ? CLONE_NEWPID : 0) | (bits & 4 ? CLONE_NEWNET : 0) |
              (bits & 8 ? CLONE_NEWNS : 0) | (bits & 16 ? CLONE_NEWIPC : 0);
  std::string names = namespace_names(flags);
  std::lock_guard lock(mutex_);
  ++stats_.spawned;
  if (names != namespaces_) {
    if (flags != kNamespaceSets[0])
      log::warn("sandbox.namespaces_fallback", {{"namespaces", names}, {"wanted", namespace_names(kNamespaceSets[0])}});
    namespaces_ = names;
  }
  return true;
}

void WorkerPool::retire(Worker& w, bool kill) {
  if (w.fd >= 0) close(w.fd);
  if (w.pid > 0) {
    if (kill) ::kill(w.pid, SIGKILL);
    int status = 0;
    while (waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  w = Worker{};
}

// Sends `frame` (if any) and reads one response frame; "" or the failure.
std::string WorkerPool::exchange(Worker& w, const std::string& frame, std::string& reply,
                                 std::chrono::milliseconds limit, int attach) {
  if (limit.count() <= 0 || limit > settings_.deadline) limit = settings_.deadline;
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string_view out = frame;
  while (!out.empty()) {
    if (!wait_fd(w.fd, POLLOUT, deadline)) return "timed out sending to the worker";
    ssize_t n = attach >= 0 ? send_with_fd(w.fd, out, attach) : send(w.fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) attach = -1;  // sent with the first bytes
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return "worker closed its socket";
    out.remove_prefix(static_cast<std::size_t>(n));
  }
  std::string buffer;
  char chunk[64 << 10];
  while (true) {
    auto framed = ipc::unframe(buffer);
    if (!framed) return "bad frame from worker: " + framed.error().message;
    if (*framed) {
      reply = std::move((*framed)->payload);
      return "";
    }
    if (!wait_fd(w.fd, POLLIN, deadline))
      return "analysis exceeded " + std::to_string(limit.count()) + " ms";
    ssize_t n = recv(w.fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return "worker died";
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

Analysis WorkerPool::analyze(const AnalysisRequest& request, std::chrono::milliseconds deadline) {
  Worker w;
  {
    std::unique_lock lock(mutex_);
    idle_cv_.wait(lock, [&] { return !idle_.empty() || live_ < settings_.workers; });
    if (!idle_.empty()) {
      w = idle_.back();
      idle_.pop_back();
    } else {
      ++live_;
    }
  }
  Analysis result;
  std::string error;
  if (w.pid < 0 && !spawn(w, error)) {
    std::lock_guard lock(mutex_);
    --live_;
    ++stats_.failures;
    idle_cv_.notify_one();
    result.flag(Verdict::scan_error, "sandbox: " + error);
    return result;
  }
  std::string reply;
  // Large content goes in a sealed memfd beside the frame: through the socket
  // buffer (~200 KiB) 1 MB takes several hand-offs between the processes, each
  // a scheduler wake-up (milliseconds on a loaded machine).
  const int memfd = request.content.size() >= settings_.attach_from ? sealed_memfd(request.content) : -1;
  error = exchange(w, ipc::frame(memfd >= 0 ? ipc::encode_request_attached(request) : ipc::encode_request(request)),
                   reply, deadline, memfd);
  if (memfd >= 0) close(memfd);
  util::Result<Analysis> decoded = error.empty() ? ipc::decode_response(reply) : util::fail(error);
  bool recycle = false;
  if (!decoded) {
    // A worker that died on its own is reaped for its exit status (the
    // signal says why); one that is still running is killed.
    int pid = w.pid;
    int status = 0;
    bool reaped = false;
    for (int i = 0; i < 100 && !reaped; ++i) {
      reaped = waitpid(pid, &status, WNOHANG) == pid;
      if (!reaped) usleep(10000);
    }
    if (!reaped) {
      ::kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    w.pid = -1;
    retire(w, false);
    std::string why = decoded.error().message;
    if (why == "worker died" || why.rfind("worker closed", 0) == 0) why += ": " + describe_exit(status);
    result.flag(Verdict::scan_error, "sandbox: " + why);
  } else {
    result = std::move(*decoded);
    result.ran("sandbox");
    recycle = ++w.jobs >= settings_.max_jobs;
    if (recycle) retire(w, false);
  }
  std::lock_guard lock(mutex_);
  ++stats_.jobs;
  if (!decoded) ++stats_.failures;
  if (recycle) ++stats_.recycled;
  if (w.pid > 0) idle_.push_back(w);
  else --live_;
  idle_cv_.notify_one();
  return result;
}

PoolStats WorkerPool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::string WorkerPool::namespaces() const {
  std::lock_guard lock(mutex_);
  return namespaces_;
}

}  // namespace mailmoat::attachments::sandbox
