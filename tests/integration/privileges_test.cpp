// Least privilege (issue 13): serve started as root binds its ports, gives
// its data directory to server.user and runs as that user; root without
// server.user is refused when a listener is reachable beyond loopback. These
// tests need root (CI runs as root); elsewhere they are skipped.
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "harness.h"

namespace mailmoat::testing {
namespace {

constexpr uid_t kNobody = 65534;  // Debian's nobody:nogroup

std::string status_line(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return line;
  return {};
}

TEST(Privileges, RootBecomesServerUserOnceThePortsAreBoundAndStillDelivers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Gateway gw;
  // The test's own temporary directory must be reachable by nobody.
  ASSERT_EQ(::chmod(gw.data_dir().c_str(), 0777), 0);
  ASSERT_TRUE(gw.start({"server.user=nobody"})) << gw.log();
  EXPECT_NE(gw.log().find("serve.privileges_dropped user=nobody uid=65534 gid=65534"), std::string::npos) << gw.log();
  EXPECT_EQ(status_line(gw.pid(), "Uid"), "Uid:\t65534\t65534\t65534\t65534");
  EXPECT_EQ(status_line(gw.pid(), "Gid"), "Gid:\t65534\t65534\t65534\t65534");
  EXPECT_EQ(status_line(gw.pid(), "CapEff"), "CapEff:\t0000000000000000");

  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"},
                                      "From: a@sender.test\r\nSubject: as nobody\r\n\r\nhello\r\n")),
            250);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u) << gw.log();
  struct stat st{};
  ASSERT_EQ(::stat((gw.data_dir() + "/var").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);  // handed over before the drop
  ASSERT_EQ(::stat((gw.data_dir() + "/var/mailboxes/u@localhost/new").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);  // written after it
}

TEST(Privileges, RootWithAListenerBeyondLoopbackAndNoUserIsRefusedBeforeBinding) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir d;
  const int port = free_port();
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "server.data_dir=" + d.file("var"), "--set",
                "smtp.listener.0.address=0.0.0.0:" + std::to_string(port)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("refusing to run as root with smtp.listener[0].address = 0.0.0.0:" + std::to_string(port)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("set server.user"), std::string::npos) << r.err;
}

TEST(Privileges, UnknownServerUserIsRefused) {
  TempDir d;
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "server.data_dir=" + d.file("var"), "--set",
                "smtp.listener.0.address=127.0.0.1:0", "--set", "server.user=no-such-user-mailmoat"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("server.user: no such user 'no-such-user-mailmoat'"), std::string::npos) << r.err;
}

TEST(Privileges, RootOnLoopbackOnlyRunsWithAWarning) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_NE(gw.log().find("serve.running_as_root"), std::string::npos) << gw.log();
}

}  // namespace
}  // namespace mailmoat::testing
