// Starts a real `unbound` for a test on a free loopback port, in the
// foreground, from a config body written into a private temporary directory
// (recipe and traps: ../shared/TESTING.md), and stops it again.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

extern char** environ;

namespace mailmoat::test_support {

inline int free_loopback_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

inline bool tcp_open(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

class UnboundProcess {
 public:
  explicit UnboundProcess(const std::string& tag)
      : dir_(std::filesystem::temp_directory_path() / ("mailmoat-" + tag + "-" + std::to_string(getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~UnboundProcess() {
    stop();
    std::filesystem::remove_all(dir_);
  }
  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }

  // `server_lines` are extra lines of the server: clause; `tail` follows it
  // (e.g. auth-zone: clauses). True once the server accepts connections.
  bool start(const std::string& server_lines, const std::string& tail = "") {
    port_ = free_loopback_port();
    std::ofstream conf(dir_ / "unbound.conf");
    conf << "server:\n  interface: 127.0.0.1@" << port_ << "\n  port: " << port_
         << "\n  do-daemonize: no\n  username: \"\"\n  chroot: \"\"\n  directory: \"" << dir_.string()
         << "\"\n  pidfile: \"\"\n  use-syslog: no\n  logfile: \"\"\n  do-ip6: no\n"
         << server_lines << tail;
    conf.close();
    std::string path = (dir_ / "unbound.conf").string();
    const char* argv[] = {"/usr/sbin/unbound", "-d", "-c", path.c_str(), nullptr};
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return false;
    for (int i = 0; i < 100 && !tcp_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return tcp_open(port_);
  }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace mailmoat::test_support
