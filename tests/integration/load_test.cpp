// Load and slow clients (issue 13): 2,000 SMTP sessions held open from 40
// addresses while another client is served; a client trickling one byte at a
// time is cut at the per-record deadline (421 4.4.2) in a command and in DATA,
// with nothing acknowledged; a flood from one address is capped without
// starving the next address. Loopback only (127.0.1.x / 127.0.2.x sources).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {
namespace {

using Clock = std::chrono::steady_clock;

int port_of_address(const std::string& host_port) { return std::stoi(host_port.substr(host_port.rfind(':') + 1)); }

// A TCP connection from a chosen loopback source address; -1 on failure.
int connect_from(const std::string& source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// The first line the server sends, within timeout_ms; "" if none.
std::string first_line(int fd, int timeout_ms = 10000) {
  std::string got;
  auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.find("\r\n") == std::string::npos && Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got.substr(0, got.find("\r\n"));
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

void raise_own_file_limit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

TEST(Load, TwoThousandSessionsHeldOpenWhileAnotherClientIsServed) {
  raise_own_file_limit();
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2200) GTEST_SKIP() << "open-file limit " << rl.rlim_cur << " is below 2,200";
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.max_connections=2100"})) << gw.log();
  const int port = port_of_address(gw.smtp_address());
  const long rss_idle = rss_kib(gw.pid());
  std::vector<int> held;
  for (int source = 1; source <= 40; ++source)
    for (int i = 0; i < 50; ++i) {
      int fd = connect_from("127.0.1." + std::to_string(source), port);
      ASSERT_GE(fd, 0) << "connection " << held.size();
      held.push_back(fd);
    }
  int greeted = 0;
  for (int fd : held) greeted += first_line(fd).starts_with("220 ") ? 1 : 0;
  EXPECT_EQ(greeted, 2000);

  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"}, "Subject: while 2000 wait\r\n\r\nhi\r\n")), 250);
  EXPECT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u) << gw.log().substr(0, 3000);
  const long rss_loaded = rss_kib(gw.pid());
  std::cout << "gateway RSS idle " << rss_idle << " KiB, with 2,000 sessions " << rss_loaded << " KiB\n";
  EXPECT_LT(rss_loaded - rss_idle, 512 * 1024);  // bounded: well under 256 KiB a session even with ASan
  for (int fd : held) ::close(fd);
  EXPECT_EQ(gw.stop(), 0);
}

TEST(Load, TricklingClientIsCutAtTheRecordDeadlineWhileOthersAreServed) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.timeout_seconds=2"})) << gw.log();
  const int port = port_of_address(gw.smtp_address());

  // A command trickled one byte every 400 ms: every gap is far below the
  // 2 s timeout, the line as a whole is not.
  int slow = connect_from("127.0.2.1", port);
  ASSERT_GE(slow, 0);
  ASSERT_EQ(first_line(slow).substr(0, 3), "220");
  const std::string line = "EHLO slow.client.example\r\n";
  std::string answer;
  auto started = Clock::now();
  std::thread trickle([&] {
    for (char ch : line) {
      if (::send(slow, &ch, 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));
    }
  });
  // Meanwhile another client is served as usual.
  SmtpClient other;
  ASSERT_TRUE(other.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(other.send_message("a@sender.test", {"u@localhost"}, "Subject: meanwhile\r\n\r\nhi\r\n")), 250);
  answer = first_line(slow, 8000);
  auto cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  trickle.join();
  ::close(slow);
  EXPECT_EQ(answer.substr(0, 9), "421 4.4.2") << answer;
  EXPECT_LT(cut_after, 5000) << "the trickle held the session for " << cut_after << " ms";

  // The same inside DATA: cut, and nothing acknowledged or delivered.
  SmtpClient data;
  ASSERT_TRUE(data.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(data.begin_transaction("a@sender.test")), 250);
  ASSERT_EQ(reply_code(data.command("RCPT TO:<slow@localhost>")), 250);
  ASSERT_EQ(reply_code(data.command("DATA")), 354);
  const std::string body = "Subject: trickled\r\n\r\nthis line never ends in time";
  for (char ch : body) {
    data.send(std::string(1, ch));
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    if (data.closed(1)) break;
  }
  EXPECT_TRUE(data.closed(3000));
  EXPECT_TRUE(mailbox(gw.data_dir(), "slow@localhost").empty());
}

TEST(Load, FloodFromOneAddressIsCappedWithoutStarvingTheNext) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();  // defaults: 50 connections per address
  const int port = port_of_address(gw.smtp_address());
  std::vector<int> flood;
  int accepted = 0, refused = 0;
  for (int i = 0; i < 80; ++i) {
    int fd = connect_from("127.0.2.10", port);
    ASSERT_GE(fd, 0);
    flood.push_back(fd);
    std::string l = first_line(fd);
    if (l.starts_with("220 ")) ++accepted;
    if (l.starts_with("421 4.7.0")) ++refused;
  }
  EXPECT_EQ(accepted, 50);
  EXPECT_EQ(refused, 30);
  int next = connect_from("127.0.2.11", port);
  ASSERT_GE(next, 0);
  EXPECT_EQ(first_line(next).substr(0, 4), "220 ");
  ::close(next);
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"}, "Subject: not starved\r\n\r\nhi\r\n")), 250);
  for (int fd : flood) ::close(fd);
}

}  // namespace
}  // namespace mailmoat::testing
