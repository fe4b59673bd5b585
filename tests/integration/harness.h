// Integration-test harness: runs the real `mailmoat` binary. Gateway starts
// `mailmoat serve` on ephemeral loopback ports with its own temporary data
// directory, waits for the ready file, and stops it with SIGTERM; run()
// executes a CLI command and captures its exit status and output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mailmoat::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

std::string binary_path();
// Runs the mailmoat binary with `args`, feeding `input` on stdin.
CommandResult run(const std::vector<std::string>& args, const std::string& input = {});

// A fresh directory under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct HttpReply {
  int status = 0;
  std::string headers;
  std::string body;
};
// A plain HTTP/1.1 request over loopback; status 0 when the connection failed.
HttpReply http_request(const std::string& host_port, const std::string& method, const std::string& target,
                       const std::string& body = {}, const std::vector<std::string>& headers = {});

// A raw SMTP client for tests: sends exactly the bytes it is given.
class SmtpClient {
 public:
  SmtpClient() = default;
  ~SmtpClient();
  SmtpClient(const SmtpClient&) = delete;
  bool connect(const std::string& host_port);
  void send(const std::string& bytes);
  // Reads one complete (possibly multi-line) reply; "" when the peer closed or timed out.
  std::string reply(int timeout_ms = 10000);
  // send(line + CRLF) then reply().
  std::string command(const std::string& line);
  // True when the server has closed the connection (reads EOF).
  bool closed(int timeout_ms = 3000);
  // Reads the greeting, sends EHLO and MAIL FROM:<from>; returns the MAIL reply.
  std::string begin_transaction(const std::string& from);
  // Greeting, EHLO, MAIL, RCPTs, DATA, content (dot-stuffing is the caller's), returns the final reply.
  std::string send_message(const std::string& from, const std::vector<std::string>& to, const std::string& content);
  void close();

 private:
  int fd_ = -1;
  std::string buf_;
};

int reply_code(const std::string& reply);

// Maildir files delivered for `address` under data_dir/mailboxes (their contents).
std::vector<std::string> mailbox(const std::string& data_dir, const std::string& address);
// Waits until mailbox() has at least n messages or the timeout passes.
std::vector<std::string> wait_for_mail(const std::string& data_dir, const std::string& address, std::size_t n,
                                       std::chrono::seconds timeout = std::chrono::seconds(20));

// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

// A TCP listener on 127.0.0.1 that accepts (the kernel's backlog) and never
// answers: a server that hangs, e.g. a clamd whose scan never ends.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  bool ok() const { return fd_ >= 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void close();

 private:
  int port_ = 0;
  int fd_ = -1;
};

// A child process started by a test and killed (SIGTERM, then SIGKILL) when it goes away.
class Process {
 public:
  Process() = default;
  explicit Process(const std::vector<std::string>& argv, const std::string& log_file = "/dev/null") { start(argv, log_file); }
  ~Process() { stop(); }
  Process(const Process&) = delete;
  bool start(const std::vector<std::string>& argv, const std::string& log_file = "/dev/null");
  void stop();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Waits until something accepts TCP connections on host:port.
bool wait_for_port(const std::string& host_port, std::chrono::seconds timeout = std::chrono::seconds(10));

// smtp-sink on 127.0.0.1:port dumping every message into dump_dir (world-writable, it runs as nobody).
class SmtpSink {
 public:
  explicit SmtpSink(const std::vector<std::string>& extra_args = {}, int port = 0);
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Contents of the dumped transactions (envelope lines then the message).
  std::vector<std::string> messages() const;
  std::vector<std::string> wait_for(std::size_t n, std::chrono::seconds timeout = std::chrono::seconds(20)) const;

 private:
  TempDir dir_;
  int port_;
  Process process_;
};

// A private Postfix instance (see ../shared/TESTING.md) listening on 127.0.0.1:port.
class Postfix {
 public:
  // main_cf_extra lines are appended to main.cf.
  Postfix(int port, const std::vector<std::string>& main_cf_extra);
  ~Postfix();
  bool started() const { return started_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string maillog() const;
  std::string queue_dir() const { return dir_.path() + "/queue"; }

 private:
  TempDir dir_;
  int port_;
  bool started_ = false;
};

class Gateway {
 public:
  Gateway() = default;
  ~Gateway();
  Gateway(const Gateway&) = delete;

  // Starts serve with the data directory and all listeners on port 0 plus `overrides`.
  // Returns false (and leaves the stderr text in log()) if it did not become ready.
  bool start(const std::vector<std::string>& overrides = {}, const std::string& config_file = {});
  // Limits the size of files the gateway may write (RLIMIT_FSIZE), to simulate a full disk.
  void set_file_size_limit(long bytes) { file_size_limit_ = bytes; }
  // SIGTERM and wait; returns the exit status.
  int stop(std::chrono::seconds timeout = std::chrono::seconds(20));
  void kill9();
  bool running() const { return pid_ > 0; }

  const nlohmann::json& ready() const { return ready_; }
  std::string http_address() const { return ready_.value("http", ""); }
  std::string smtp_address(const std::string& listener = "inbound") const;
  const std::string& data_dir() const { return dir_.path(); }
  // The zone file the gateway answers DNS from (dns.zone_files); write it before start().
  std::string zone_file() const { return dir_.file("zone.db"); }
  std::string log() const;  // everything written to stderr so far
  // Polls log() until it contains `text`; false after the timeout.
  bool wait_for_log(const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(30)) const;
  pid_t pid() const { return pid_; }

 private:
  // ThreadSanitizer builds (make test-tsan): a report the gateway wrote to its
  // stderr since the last check fails the running test, whatever the test
  // itself asserts (the gateway may be killed before its exit code says so).
  // Other builds never print one, so this changes nothing there.
  void fail_on_sanitizer_reports();

  TempDir dir_;
  pid_t pid_ = -1;
  long file_size_limit_ = 0;
  std::size_t log_checked_ = 0;  // bytes of stderr.log already searched for reports
  nlohmann::json ready_;
};

}  // namespace mailmoat::testing
