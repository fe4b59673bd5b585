// The SMTP gateway through real sockets: delivery, relay control, smuggling,
// limits, loops, shutdown and a full disk.
#include <signal.h>

#include <gtest/gtest.h>

#include <thread>

#include "harness.h"

namespace mailmoat::testing {

namespace {
const std::string kMessage = "From: a@sender.test\r\nTo: u@localhost\r\nSubject: hi\r\n\r\nbody\r\n";
}

TEST(Smtp, DeliversToMaildirWithReceivedHeader) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("a@sender.test", {"u@localhost"}, kMessage);
  ASSERT_EQ(reply_code(r), 250) << r;
  EXPECT_NE(r.find("2.0.0 Ok: queued as "), std::string::npos);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  EXPECT_EQ(mail[0].rfind("Return-Path: <a@sender.test>\n", 0), 0u);
  EXPECT_NE(mail[0].find("Received: from client.test (unknown [127.0.0.1])"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("\nbody\n"), std::string::npos);
}

TEST(Smtp, EveryRoleRefusesToRelayForStrangers) {
  // inbound: only accepted domains, even from trusted networks.
  {
    Gateway gw;
    ASSERT_TRUE(gw.start()) << gw.log();
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    c.begin_transaction("a@sender.test");
    EXPECT_EQ(c.command("RCPT TO:<victim@elsewhere.test>").substr(0, 9), "554 5.7.1");
    EXPECT_EQ(c.command("RCPT TO:<victim@localhost.evil.test>").substr(0, 9), "554 5.7.1");
  }
  // relay and submission: only clients from relay_networks.
  for (const char* role : {"relay", "submission"}) {
    Gateway gw;
    ASSERT_TRUE(gw.start({std::string("smtp.listener.0.role=") + role, "smtp.relay_networks=[\"192.0.2.0/24\"]"}))
        << gw.log();
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    c.begin_transaction("a@sender.test");
    EXPECT_EQ(c.command("RCPT TO:<victim@elsewhere.test>").substr(0, 9), "554 5.7.1") << role;
    EXPECT_EQ(c.command("RCPT TO:<u@localhost>").substr(0, 9), "554 5.7.1") << role;
  }
}

TEST(Smtp, RelayRoleAcceptsTrustedClients) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay"})) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.begin_transaction("a@localhost");
  EXPECT_EQ(reply_code(c.command("RCPT TO:<someone@remote.test>")), 250);
}

class SmtpSmuggling : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(SmtpSmuggling, NoSecondMessageIsEverAccepted) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.begin_transaction("a@sender.test");
  c.command("RCPT TO:<u@localhost>");
  ASSERT_EQ(reply_code(c.command("DATA")), 354);
  c.send(std::string("Subject: first\r\n\r\nfirst") + GetParam().second +
         "MAIL FROM:<admin@localhost>\r\nRCPT TO:<victim@localhost>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n");
  std::string r = c.reply();
  EXPECT_EQ(r.substr(0, 9), "554 5.5.2") << GetParam().first << ": " << r;
  EXPECT_TRUE(c.closed());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(mailbox(gw.data_dir(), "victim@localhost").empty());
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
}

INSTANTIATE_TEST_SUITE_P(SecConsultVariants, SmtpSmuggling,
                         ::testing::Values(std::pair{"LF_dot_LF", "\n.\n"}, std::pair{"LF_dot_CRLF", "\n.\r\n"},
                                           std::pair{"CR_dot_CR", "\r.\r"}, std::pair{"CRLF_dot_LF", "\r\n.\n"},
                                           std::pair{"LF_dot_CR", "\n.\r"}, std::pair{"CR_dot_CRLF", "\r.\r\n"},
                                           std::pair{"CRLF_dot_CR", "\r\n.\r"}),
                         [](const auto& info) { return std::string(info.param.first); });

TEST(Smtp, BareLfInACommandClosesTheSession) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  c.send("EHLO x\n");
  EXPECT_EQ(c.reply().substr(0, 9), "554 5.5.2");
  EXPECT_TRUE(c.closed());
}

TEST(Smtp, BdatContentCannotSmuggleCommands) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.begin_transaction("a@sender.test");
  c.command("RCPT TO:<u@localhost>");
  std::string chunk = "Subject: one\r\n\r\nline\r\n.\r\nMAIL FROM:<admin@localhost>\r\nRCPT TO:<victim@localhost>\r\nDATA\r\n";
  c.send("BDAT " + std::to_string(chunk.size()) + " LAST\r\n" + chunk);
  EXPECT_EQ(reply_code(c.reply()), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("\n.\nMAIL FROM:<admin@localhost>\n"), std::string::npos);  // stayed content
  EXPECT_TRUE(mailbox(gw.data_dir(), "victim@localhost").empty());
}

TEST(Smtp, PipelinedCommandsAreAnsweredInOrder) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  c.command("EHLO x");
  c.send("MAIL FROM:<a@sender.test>\r\nRCPT TO:<u@localhost>\r\nRCPT TO:<no@elsewhere.test>\r\nDATA\r\n");
  EXPECT_EQ(reply_code(c.reply()), 250);
  EXPECT_EQ(reply_code(c.reply()), 250);
  EXPECT_EQ(reply_code(c.reply()), 554);
  EXPECT_EQ(reply_code(c.reply()), 354);
  c.send(kMessage + ".\r\nQUIT\r\n");
  EXPECT_EQ(reply_code(c.reply()), 250);
  EXPECT_EQ(reply_code(c.reply()), 221);
}

TEST(Smtp, LimitsAreEnforcedWithEnhancedCodes) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.max_recipients=2", "smtp.max_message_size=2048"})) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  EXPECT_EQ(c.command("EHLO " + std::string(600, 'x')).substr(0, 9), "500 5.5.2");  // command line over 512
  EXPECT_NE(c.command("EHLO x").find("SIZE 2048"), std::string::npos);
  EXPECT_EQ(c.command("MAIL FROM:<a@sender.test> SIZE=4096").substr(0, 9), "552 5.3.4");
  c.command("MAIL FROM:<a@sender.test>");
  c.command("RCPT TO:<1@localhost>");
  c.command("RCPT TO:<2@localhost>");
  EXPECT_EQ(c.command("RCPT TO:<3@localhost>").substr(0, 9), "452 4.5.3");
  c.command("DATA");
  c.send("Subject: big\r\n\r\n" + std::string(3000, 'x').insert(900, "\r\n").insert(1800, "\r\n").insert(2700, "\r\n") +
         "\r\n.\r\n");
  EXPECT_EQ(c.reply().substr(0, 9), "552 5.3.4");
  c.command("MAIL FROM:<a@sender.test>");
  c.command("RCPT TO:<1@localhost>");
  c.command("DATA");
  c.send("Subject: long line\r\n\r\n" + std::string(1200, 'y') + "\r\n.\r\n");
  EXPECT_EQ(c.reply().substr(0, 9), "554 5.6.0");
}

TEST(Smtp, ClientThatKeepsErringIsDisconnected) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.max_errors=3"})) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  c.command("BOGUS");
  c.command("BOGUS");
  std::string r = c.command("BOGUS");
  EXPECT_EQ(r.substr(0, 9), "500 5.5.2");
  r = c.reply();
  EXPECT_EQ(r.substr(0, 9), "421 4.7.0") << r;
  EXPECT_TRUE(c.closed());
}

TEST(Smtp, IdleClientTimesOut) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.timeout_seconds=1"})) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  EXPECT_EQ(c.reply(4000).substr(0, 9), "421 4.4.2");
  EXPECT_TRUE(c.closed());
}

TEST(Smtp, ConnectionsPerAddressAreCapped) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.max_connections_per_ip=2"})) << gw.log();
  SmtpClient a, b, c;
  ASSERT_TRUE(a.connect(gw.smtp_address()));
  ASSERT_TRUE(b.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(a.reply()), 220);
  EXPECT_EQ(reply_code(b.reply()), 220);
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  EXPECT_EQ(c.reply().substr(0, 9), "421 4.7.0");
  a.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  SmtpClient d;
  ASSERT_TRUE(d.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(d.reply()), 220);
}

TEST(Smtp, MailLoopIsRefused) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.max_hops=5"})) << gw.log();
  std::string msg;
  for (int i = 0; i < 5; ++i) msg += "Received: from hop" + std::to_string(i) + " by x; Sat, 28 Nov 2026 10:00:00 +0000\r\n";
  msg += kMessage;
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  EXPECT_EQ(c.send_message("a@sender.test", {"u@localhost"}, msg).substr(0, 9), "554 5.4.6");
}

TEST(Smtp, ShutdownTellsIdleSessions421) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  c.command("EHLO x");
  kill(gw.pid(), SIGTERM);
  EXPECT_EQ(c.reply().substr(0, 9), "421 4.3.2");
  EXPECT_EQ(gw.stop(), 0);
}

TEST(Smtp, FullDiskIsATemporaryErrorAndNothingIsAcknowledged) {
  Gateway gw;
  gw.set_file_size_limit(1024 * 1024);  // room for the store; not for a 1.2 MB message
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string big = "Subject: big\r\n\r\n";
  for (int i = 0; i < 17000; ++i) big += std::string(70, 'z') + "\r\n";
  EXPECT_EQ(c.send_message("a@sender.test", {"u@localhost"}, big).substr(0, 9), "452 4.3.1");
  // The gateway stays up and a small message still goes through.
  SmtpClient d;
  ASSERT_TRUE(d.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(d.send_message("a@sender.test", {"u@localhost"}, kMessage)), 250);
  EXPECT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u);
}

}  // namespace mailmoat::testing

namespace mailmoat::testing {

TEST(Smtp, RecipientListRefusesUnknownUsersAndBadFilesStopServe) {
  TempDir d;
  d.write("rcpts", "u@localhost\n");
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.recipient_list=" + d.file("rcpts")})) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.begin_transaction("a@sender.test");
  EXPECT_EQ(reply_code(c.command("RCPT TO:<u@localhost>")), 250);
  EXPECT_EQ(c.command("RCPT TO:<nobody@localhost>").substr(0, 9), "550 5.1.1");
  d.write("bad", "u@localhost\nnonsense line\n");
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "smtp.listener.0.address=127.0.0.1:0", "--set",
                "server.data_dir=" + d.file("var"), "--set", "smtp.recipient_list=" + d.file("bad")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad") + ":2:"), std::string::npos) << r.err;
}

}  // namespace mailmoat::testing

namespace mailmoat::testing {

TEST(Smtp, SighupAppliesNewAcceptedDomainsToNewSessions) {
  TempDir d;
  d.write("m.toml", "[smtp]\naccepted_domains = [\"localhost\"]\n");
  Gateway gw;
  ASSERT_TRUE(gw.start({}, d.file("m.toml"))) << gw.log();
  SmtpClient before;
  ASSERT_TRUE(before.connect(gw.smtp_address()));
  before.begin_transaction("a@sender.test");
  EXPECT_EQ(before.command("RCPT TO:<u@example.org>").substr(0, 9), "554 5.7.1");
  d.write("m.toml", "[smtp]\naccepted_domains = [\"localhost\", \"example.org\"]\n");
  kill(gw.pid(), SIGHUP);
  for (int i = 0; i < 100 && gw.log().find("config.reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  SmtpClient after;
  ASSERT_TRUE(after.connect(gw.smtp_address()));
  after.begin_transaction("a@sender.test");
  EXPECT_EQ(reply_code(after.command("RCPT TO:<u@example.org>")), 250) << gw.log();
}

}  // namespace mailmoat::testing
