#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mailmoat::testing {

namespace fs = std::filesystem;

std::string binary_path() {
  if (const char* env = std::getenv("MAILMOAT_BINARY")) return env;
  return MAILMOAT_BINARY;
}

namespace {

std::vector<char*> make_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

CommandResult run(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> full{binary_path()};
  full.insert(full.end(), args.begin(), args.end());
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    auto argv = make_argv(full);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::thread writer([&] {
    std::size_t off = 0;
    while (off < input.size()) {
      ssize_t n = write(in_pipe[1], input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    close(in_pipe[1]);
  });
  CommandResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  writer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = decode_status(status);
  return r;
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "mailmoat-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty() && !std::getenv("MAILMOAT_KEEP_TEST_DIRS")) fs::remove_all(path_, ec);
}

void TempDir::write(const std::string& name, const std::string& content) const {
  std::ofstream out(file(name), std::ios::binary);
  out << content;
}

HttpReply http_request(const std::string& host_port, const std::string& method, const std::string& target,
                       const std::string& body, const std::vector<std::string>& headers) {
  HttpReply reply;
  auto colon = host_port.rfind(':');
  std::string host = host_port.substr(0, colon);
  int port = std::atoi(host_port.c_str() + colon + 1);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return reply;
  }
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: " + host_port + "\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  (void)!::write(fd, req.data(), req.size());
  std::string data;
  char buf[65536];
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  auto end = data.find("\r\n\r\n");
  if (data.size() < 12 || end == std::string::npos) return reply;
  reply.status = std::atoi(data.c_str() + 9);
  reply.headers = data.substr(0, end);
  reply.body = data.substr(end + 4);
  return reply;
}

Gateway::~Gateway() {
  if (pid_ > 0) stop(std::chrono::seconds(5));
  fail_on_sanitizer_reports();
}

void Gateway::fail_on_sanitizer_reports() {
  const std::string text = log();
  if (text.size() <= log_checked_) return;
  const std::size_t at = text.find("ThreadSanitizer", log_checked_);
  log_checked_ = text.size();
  if (at == std::string::npos) return;
  // From the start of the report's line, enough for both stacks.
  const std::size_t line = text.rfind('\n', at);
  const std::size_t from = line == std::string::npos ? 0 : line + 1;
  ADD_FAILURE() << "the gateway reported a ThreadSanitizer finding:\n"
                << text.substr(from, 12000);
}

bool Gateway::start(const std::vector<std::string>& overrides, const std::string& config_file) {
  std::vector<std::string> args{binary_path(), "serve", "--ready-file", dir_.file("ready.json"),
                                "--set",       "server.data_dir=" + dir_.file("var"),
                                "--set",       "http.listen=127.0.0.1:0",
                                "--set",       "smtp.listener.0.address=127.0.0.1:0",
                                "--set",       "server.shutdown_grace_seconds=5"};
  // DNS comes from a zone file (empty unless a test writes one), never from outside.
  if (!std::ifstream(dir_.file("zone.db"))) dir_.write("zone.db", "; test zone\n");
  args.push_back("--set");
  args.push_back("dns.zone_files=[\"" + dir_.file("zone.db") + "\"]");
  if (!config_file.empty()) {
    args.push_back("-c");
    args.push_back(config_file);
  }
  for (const auto& o : overrides) {
    args.push_back("--set");
    args.push_back(o);
  }
  std::string log_path = dir_.file("stderr.log");
  ::unlink(dir_.file("ready.json").c_str());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (file_size_limit_ > 0) {
      rlimit rl{static_cast<rlim_t>(file_size_limit_), static_cast<rlim_t>(file_size_limit_)};
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    dup2(fd, 2);
    dup2(fd, 1);
    close(fd);
    auto argv = make_argv(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ready_ = nlohmann::json();
  for (int i = 0; i < 300; ++i) {
    std::ifstream ready(dir_.file("ready.json"));
    if (ready) {
      try {
        ready >> ready_;
        return true;
      } catch (...) {
      }
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail_on_sanitizer_reports();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int Gateway::stop(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      fail_on_sanitizer_reports();
      return decode_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  fail_on_sanitizer_reports();
  return decode_status(status);
}

void Gateway::kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  fail_on_sanitizer_reports();
}

SmtpClient::~SmtpClient() { close(); }

void SmtpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool SmtpClient::connect(const std::string& host_port) {
  close();
  auto colon = host_port.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(host_port.c_str() + colon + 1)));
  inet_pton(AF_INET, host_port.substr(0, colon).c_str(), &addr.sin_addr);
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close();
    return false;
  }
  return true;
}

void SmtpClient::send(const std::string& bytes) {
  std::size_t off = 0;
  while (fd_ >= 0 && off < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string SmtpClient::reply(int timeout_ms) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    std::size_t eol;
    while ((eol = buf_.find("\r\n")) != std::string::npos) {
      std::string line = buf_.substr(0, eol + 2);
      buf_.erase(0, eol + 2);
      out += line;
      if (line.size() >= 4 && line[3] == ' ') return out;
      if (line.size() < 4) return out;
    }
    if (fd_ < 0) return {};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return {};
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return {};
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return {};
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

std::string SmtpClient::command(const std::string& line) {
  send(line + "\r\n");
  return reply();
}

bool SmtpClient::closed(int timeout_ms) {
  if (fd_ < 0) return true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return true;
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
}

std::string SmtpClient::begin_transaction(const std::string& from) {
  reply();
  command("EHLO x");
  return command("MAIL FROM:<" + from + ">");
}

std::string SmtpClient::send_message(const std::string& from, const std::vector<std::string>& to,
                                     const std::string& content) {
  if (reply_code(reply()) != 220) return "no greeting";
  if (reply_code(command("EHLO client.test")) != 250) return "EHLO failed";
  std::string r = command("MAIL FROM:<" + from + ">");
  if (reply_code(r) != 250) return r;
  for (const auto& t : to) {
    r = command("RCPT TO:<" + t + ">");
    if (reply_code(r) != 250) return r;
  }
  r = command("DATA");
  if (reply_code(r) != 354) return r;
  send(content);
  if (!content.ends_with("\r\n")) send("\r\n");
  return command(".");
}

int reply_code(const std::string& reply) { return reply.size() >= 3 ? std::atoi(reply.substr(0, 3).c_str()) : 0; }

std::vector<std::string> mailbox(const std::string& data_dir, const std::string& address) {
  std::vector<std::string> out;
  fs::path dir = fs::path(data_dir) / "var" / "mailboxes" / address / "new";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

std::vector<std::string> wait_for_mail(const std::string& data_dir, const std::string& address, std::size_t n,
                                       std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto m = mailbox(data_dir, address);
    if (m.size() >= n || std::chrono::steady_clock::now() > deadline) return m;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

SilentListener::SilentListener() : port_(free_port()) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port_));
  if (fd_ >= 0 && (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)) close();
}

SilentListener::~SilentListener() { close(); }

void SilentListener::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int free_port() {
  // Below the kernel's ephemeral range, so that a client connecting while
  // nothing listens cannot be handed the same port and connect to itself.
  static std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = std::uniform_int_distribution<int>(20000, 32000)(rng);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (ok) return port;
  }
  return 0;
}

bool Process::start(const std::vector<std::string>& argv_in, const std::string& log_file) {
  std::vector<std::string> args = argv_in;
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_file.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    setpgid(0, 0);
    auto argv = make_argv(args);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid_ > 0;
}

void Process::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool wait_for_port(const std::string& host_port, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    SmtpClient c;
    if (c.connect(host_port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

SmtpSink::SmtpSink(const std::vector<std::string>& extra_args, int port) : port_(port ? port : free_port()) {
  chmod(dir_.path().c_str(), 01777);
  std::vector<std::string> args{"smtp-sink", "-u", "nobody", "-d", dir_.path() + "/%H%M%S."};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.push_back("127.0.0.1:" + std::to_string(port_));
  args.push_back("1000");
  process_.start(args);
  wait_for_port(address());
}

std::vector<std::string> SmtpSink::messages() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_.path(), ec)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str());
  }
  return out;
}

std::vector<std::string> SmtpSink::wait_for(std::size_t n, std::chrono::seconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto m = messages();
    if (m.size() >= n) {
      // smtp-sink writes the dump while the transaction runs: let the last one finish.
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return messages();
    }
    if (std::chrono::steady_clock::now() > deadline) return m;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Postfix::Postfix(int port, const std::vector<std::string>& extra) : port_(port) {
  const std::string p = dir_.path();
  chmod(p.c_str(), 0755);  // Postfix daemons (user postfix) must reach their directories
  fs::create_directories(p + "/queue");
  fs::create_directories(p + "/data");
  chown((p + "/data").c_str(), getpwnam("postfix") ? getpwnam("postfix")->pw_uid : 0, static_cast<gid_t>(-1));
  {
    std::ifstream in("/etc/postfix/master.cf");
    std::ofstream out(p + "/master.cf");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("smtp      inet", 0) == 0) line = "#" + line;
      out << line << "\n";
    }
    out << "127.0.0.1:" << port << " inet n - n - - smtpd\n";
  }
  std::ofstream main(p + "/main.cf");
  main << "compatibility_level = 3.6\nqueue_directory = " << p << "/queue\ndata_directory = " << p
       << "/data\nmaillog_file = " << p << "/maillog\nmaillog_file_prefixes = /var, /dev/stdout, " << p
       << "\nmyhostname = peer.test\ninet_interfaces = 127.0.0.1\nmydestination =\nmynetworks = 127.0.0.0/8\n"
       << "alias_maps =\nalias_database =\nsmtp_dns_support_level = disabled\n";
  for (const auto& l : extra) main << l << "\n";
  main.close();
  std::string cmd = "postfix -c " + p + " start >/dev/null 2>&1";
  started_ = std::system(cmd.c_str()) == 0 && wait_for_port(address());
}

Postfix::~Postfix() {
  std::string cmd = "postfix -c " + dir_.path() + " stop >/dev/null 2>&1";
  (void)!std::system(cmd.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

std::string Postfix::maillog() const {
  std::ifstream in(dir_.path() + "/maillog");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Gateway::smtp_address(const std::string& listener) const {
  if (!ready_.contains("smtp")) return {};
  return ready_["smtp"].value(listener, "");
}

bool Gateway::wait_for_log(const std::string& text, std::chrono::seconds timeout) const {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string Gateway::log() const {
  std::ifstream in(dir_.file("stderr.log"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace mailmoat::testing
