#include "attachments/sandbox/worker.h"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "attachments/analyze.h"
#include "attachments/sandbox/ipc.h"
#include "attachments/true_type.h"
#include "attachments/yara_rules.h"
#include "util/errno_message.h"

namespace mailmoat::attachments::sandbox {
namespace {

// Reads n bytes; a descriptor that comes with them (SCM_RIGHTS: the request's
// content in a memfd) is kept in `attached` (a second one is closed).
bool read_exact(int fd, char* data, std::size_t n, int& attached) {
  while (n > 0) {
    iovec iov{data, n};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t got = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        if (attached < 0) attached = received;
        else ::close(received);
      }
    }
    data += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

// The bytes of an attached memfd, mapped read-only; unmapped by the destructor.
struct Mapped {
  void* base = MAP_FAILED;
  std::size_t size = 0;
  explicit Mapped(int fd) {
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || st.st_size <= 0) return;
    size = static_cast<std::size_t>(st.st_size);
    base = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  ~Mapped() {
    if (base != MAP_FAILED) ::munmap(base, size);
  }
  std::optional<std::string_view> bytes() const {
    if (base == MAP_FAILED) return std::nullopt;
    return std::string_view(static_cast<const char*>(base), size);
  }
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t put = ::write(fd, data.data(), data.size());
    if (put < 0 && errno == EINTR) continue;
    if (put <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(put));
  }
  return true;
}

bool set_limit(int resource, rlim_t value) {
  rlimit rl{value, value};
  return setrlimit(resource, &rl) == 0;
}

// Everything the analyzers, libmagic, libarchive, zlib and the C++ runtime
// (and ASan, in sanitizer builds) call once running. No socket, connect,
// clone/fork, execve, ptrace, kill of others, mount, or write-mode open.
constexpr int kAllowed[] = {
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(close),
    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(lseek),
    SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk), SCMP_SYS(madvise), SCMP_SYS(mprotect),
    SCMP_SYS(futex), SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigaction), SCMP_SYS(sigaltstack), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(clock_gettime),
    SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(getrusage), SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64), SCMP_SYS(readlink), SCMP_SYS(getcwd), SCMP_SYS(access), SCMP_SYS(faccessat),
    SCMP_SYS(fcntl), SCMP_SYS(getdents64), SCMP_SYS(uname), SCMP_SYS(getuid), SCMP_SYS(geteuid),
    SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getppid), SCMP_SYS(tgkill), SCMP_SYS(restart_syscall),
    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(recvmsg)};

std::string install_seccomp() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
  if (!ctx) return "seccomp_init failed";
  int rc = 0;
  for (int sys : kAllowed) rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 0);
  // open/openat only when no write, create, truncate or append flag is set.
  const scmp_datum_t write_flags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, 0));
  rc |= seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, write_flags, 0));
  if (rc != 0) {
    seccomp_release(ctx);
    return "seccomp_rule_add failed";
  }
  rc = seccomp_load(ctx);
  seccomp_release(ctx);
  return rc == 0 ? "" : "seccomp_load failed: " + util::errno_message(-rc);
}

// Forbidden actions for the sandbox test; each should kill the worker.
void try_forbidden(const std::string& action) {
  if (action == "socket") {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    (void)std::fprintf(stderr, "analyze-worker: socket() returned %d\n", s);
    if (s >= 0) ::close(s);
  } else if (action == "write") {
    int fd = ::open("/tmp/mailmoat-sandbox-escape", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, "escaped\n", 8);
      ::close(fd);
    }
  } else if (action == "exec") {
    ::execl("/bin/sh", "sh", "-c", "touch /tmp/mailmoat-sandbox-exec", static_cast<char*>(nullptr));
  } else if (action == "allocate") {
    std::vector<char*> blocks;
    for (int i = 0; i < 1 << 16; ++i) {
      char* p = static_cast<char*>(std::malloc(64 << 20));
      if (!p) std::abort();  // the limit held; die like a crashing analyzer would
      std::memset(p, 1, 64 << 20);
      blocks.push_back(p);
    }
  } else if (action == "sleep") {
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
}

std::uint64_t mapped_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (f) {
    if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;  // NOLINT(cert-err34-c): a count from the kernel; no count is 0
    (void)std::fclose(f);  // read-only: nothing is lost if closing fails
  }
  return pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace

static int serve(const WorkerOptions& o);

static std::unique_ptr<YaraRules> g_yara;  // loaded before the filter; read-only afterwards

std::string confine(const WorkerOptions& o) {
  // Warm up what opens files lazily (libmagic's database) before the filter.
  (void)true_type("warm up");
  if (!o.yara_file.empty()) {
    auto rules = YaraRules::load(o.yara_file);
    if (!rules) return rules.error().message;
    g_yara = std::move(*rules);
  }
  if (!set_limit(RLIMIT_CPU, o.cpu_seconds)) return "setrlimit(RLIMIT_CPU) failed";
  if (!set_limit(RLIMIT_FSIZE, 0)) return "setrlimit(RLIMIT_FSIZE) failed";
  if (!set_limit(RLIMIT_NPROC, 0)) return "setrlimit(RLIMIT_NPROC) failed";
  if (!set_limit(RLIMIT_CORE, 0)) return "setrlimit(RLIMIT_CORE) failed";
  // The limit is on top of what is mapped already: ASan builds reserve
  // terabytes of shadow address space at start, which a bare limit would
  // count (docs/decisions.md).
  if (!set_limit(RLIMIT_AS, mapped_bytes() + (o.memory_mb << 20))) return "setrlimit(RLIMIT_AS) failed";
  return install_seccomp();
}

int run_worker(const WorkerOptions& o) {
  std::string error = confine(o);
  if (!error.empty()) {
    (void)std::fprintf(stderr, "analyze-worker: %s\n", error.c_str());
    _exit(3);
  }
  // _exit, not return: exit handlers (and sanitizer reports) may need system
  // calls the filter forbids.
  _exit(serve(o));
}

static int serve(const WorkerOptions& o) {
  while (true) {
    char header[4];
    int attached = -1;
    if (!read_exact(o.fd, header, 4, attached)) return 0;  // the gateway closed: done
    std::uint32_t len = 0;
    for (char c : header) len = (len << 8) | static_cast<unsigned char>(c);
    if (len > ipc::kMaxFrame) return 4;
    std::string payload(len, '\0');
    if (!read_exact(o.fd, payload.data(), len, attached)) return 4;
    util::Result<AnalysisRequest> request = util::fail("no request");
    {
      Mapped content(attached);
      if (attached >= 0) ::close(attached);
      request = ipc::decode_request(payload, content.bytes());
    }
    Analysis result;
    if (!request) {
      result.flag(Verdict::scan_error, "worker: " + request.error().message);
    } else {
      if (!o.test_action.empty()) try_forbidden(o.test_action);
      result = analyze(*request, g_yara.get());
    }
    if (!write_all(o.fd, ipc::frame(ipc::encode_response(result)))) return 5;
  }
}

}  // namespace mailmoat::attachments::sandbox
