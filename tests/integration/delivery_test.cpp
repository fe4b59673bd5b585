// Delivery through real peers on loopback: smtp-sink and Postfix as next
// hops and as a client, LMTP, deferral and retry, DSN bounces, and the
// queue CLI against a running gateway.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

namespace {
const std::string kMessage =
    "From: a@localhost\r\nTo: r@remote.test\r\nSubject: relay test\r\nMessage-ID: <m1@localhost>\r\n\r\n"
    "..leading dot\r\nbody\r\n";

std::vector<std::string> relay_to(const std::string& next_hop) {
  return {"smtp.listener.0.role=relay", "route.0.domains=[\"localhost\"]", "route.0.transport=maildir",
          "route.1.domains=[\"*\"]",    "route.1.transport=relay",         "route.1.next_hop=[" +
                                                                                 next_hop.substr(0, next_hop.rfind(':')) +
                                                                                 "]" + next_hop.substr(next_hop.rfind(':')),
          "queue.retry_base_seconds=1", "queue.retry_max_seconds=2"};
}

std::string queue_cli(const Gateway& gw, const std::vector<std::string>& args) {
  std::vector<std::string> full{"queue"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + gw.http_address()});
  auto r = run(full);
  return std::to_string(r.exit_code) + "\n" + r.out + r.err;
}
}  // namespace

TEST(Delivery, RelaysToSmtpSinkWithDotStuffingIntact) {
  SmtpSink sink;
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_to(sink.address()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@remote.test"}, "Subject: x\r\n\r\n..leading dot\r\nbody\r\n")), 250);
  auto got = sink.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << gw.log();
  EXPECT_NE(got[0].find("\n.leading dot"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find("by "), std::string::npos);
}

TEST(Delivery, NextHopDownIsDeferredThenRetriedFromTheCli) {
  int port = free_port();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_to("127.0.0.1:" + std::to_string(port)))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("a@localhost", {"r@remote.test"}, kMessage);
  ASSERT_EQ(reply_code(r), 250);
  std::string id = r.substr(r.find("queued as ") + 10, r.find("\r\n") - r.find("queued as ") - 10);
  // The attempt fails (nothing listens) and the message stays queued, deferred with the reason.
  std::string listing;
  for (int i = 0; i < 100; ++i) {
    listing = queue_cli(gw, {"list"});
    if (listing.find("cannot connect") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(listing.substr(0, 2), "0\n") << listing;
  EXPECT_NE(listing.find(id), std::string::npos) << listing;
  EXPECT_NE(listing.find("deferred"), std::string::npos) << listing;
  EXPECT_NE(listing.find("cannot connect"), std::string::npos) << listing;
  auto shown = queue_cli(gw, {"show", id});
  EXPECT_NE(shown.find("\"message_id\": \"<m1@localhost>\""), std::string::npos) << shown;
  // Hold it, bring the next hop up, release: it is delivered.
  EXPECT_EQ(queue_cli(gw, {"hold", id}).substr(0, 2), "0\n");
  SmtpSink sink({}, port);
  EXPECT_EQ(queue_cli(gw, {"retry", "--all"}).substr(0, 2), "0\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(sink.messages().empty());  // held messages are not retried
  EXPECT_EQ(queue_cli(gw, {"release", id}).substr(0, 2), "0\n");
  EXPECT_EQ(sink.wait_for(1).size(), 1u) << gw.log();
  for (int i = 0; i < 100 && queue_cli(gw, {"list"}).find(id) != std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(queue_cli(gw, {"list"}).find(id), std::string::npos);
}

TEST(Delivery, SlowNextHopTimesOutAndIsDeferred) {
  SmtpSink sink({"-w", "5"});  // answers DATA after 5 s
  Gateway gw;
  auto opts = relay_to(sink.address());
  opts.push_back("queue.delivery_timeout_seconds=2");  // DATA stage: 2 * 120/300 = 0.8 s
  opts.push_back("queue.bdat=false");
  ASSERT_TRUE(gw.start(opts)) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@remote.test"}, kMessage)), 250);
  for (int i = 0; i < 100 && gw.log().find("status=deferred") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // smtp-sink holds the pipelined MAIL/RCPT replies with the DATA one.
  EXPECT_NE(gw.log().find("status=deferred reply=\"451 4.4.2 timeout while reading the"), std::string::npos) << gw.log();
  EXPECT_NE(queue_cli(gw, {"list"}).find("deferred"), std::string::npos);
}

TEST(Delivery, QueueApiNeedsTheTokenAndRejectsBadIds) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/queue").status, 401);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/queue", "", {"Authorization: Bearer wrong"}).status, 401);
  std::ifstream tf(gw.data_dir() + "/var/admin.token");
  std::string token;
  std::getline(tf, token);
  std::string auth = "Authorization: Bearer " + token;
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/queue", "", {auth}).status, 200);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/queue/..%2f..%2fetc", "", {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/queue/NOPE", "", {auth}).status, 404);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/queue/retry", "{\"x\":1}", {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/queue/retry", "not json", {auth}).status, 400);
}

TEST(Delivery, PermanentFailureBouncesADsnToTheSender) {
  SmtpSink sink({"-f", "RCPT"});
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_to(sink.address()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@remote.test"}, kMessage)), 250);
  auto dsn = wait_for_mail(gw.data_dir(), "a@localhost", 1);
  ASSERT_EQ(dsn.size(), 1u) << gw.log();
  EXPECT_EQ(dsn[0].rfind("Return-Path: <>\n", 0), 0u);
  EXPECT_NE(dsn[0].find("Content-Type: multipart/report; report-type=delivery-status"), std::string::npos);
  EXPECT_NE(dsn[0].find("Final-Recipient: rfc822; r@remote.test"), std::string::npos);
  EXPECT_NE(dsn[0].find("Action: failed"), std::string::npos);
  EXPECT_NE(dsn[0].find("Status: 5.3.0"), std::string::npos) << dsn[0];
  EXPECT_NE(dsn[0].find("Message-ID: <m1@localhost>"), std::string::npos);  // the original is attached
}

TEST(Delivery, NoBounceForTheNullSenderOrNotifyNever) {
  SmtpSink sink({"-f", "RCPT"});
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_to(sink.address()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  c.reply();
  c.command("EHLO x");
  c.command("MAIL FROM:<a@localhost>");
  c.command("RCPT TO:<r@remote.test> NOTIFY=NEVER");
  c.command("DATA");
  c.send(kMessage);
  ASSERT_EQ(reply_code(c.command(".")), 250);
  c.command("MAIL FROM:<>");
  c.command("RCPT TO:<r@remote.test>");
  c.command("DATA");
  c.send(kMessage);
  ASSERT_EQ(reply_code(c.command(".")), 250);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(mailbox(gw.data_dir(), "a@localhost").empty());
  EXPECT_NE(gw.log().find("status=failed"), std::string::npos);
}

TEST(Delivery, LmtpDeliveryToALmtpServer) {
  SmtpSink sink({"-L"});
  Gateway gw;
  ASSERT_TRUE(gw.start({"route.0.domains=[\"localhost\"]", "route.0.transport=lmtp",
                        "route.0.next_hop=" + sink.address()}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost", "v@localhost"}, kMessage)), 250);
  EXPECT_EQ(sink.wait_for(1).size(), 1u) << gw.log();
  for (int i = 0; i < 100 && gw.log().find("to=v@localhost") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(gw.log().find("to=v@localhost remote=unix") == std::string::npos ? gw.log().find("to=v@localhost") : 0,
            std::string::npos);
}

TEST(Delivery, PostfixRelaysThroughMailmoat) {
  int pf_port = free_port();
  Gateway gw;
  ASSERT_TRUE(gw.start({"log.level=debug"})) << gw.log();
  std::string smtp = gw.smtp_address();
  Postfix postfix(pf_port, {"relayhost = [127.0.0.1]:" + smtp.substr(smtp.rfind(':') + 1)});
  ASSERT_TRUE(postfix.started()) << postfix.maillog();
  SmtpClient c;
  ASSERT_TRUE(c.connect(postfix.address()));
  ASSERT_EQ(reply_code(c.send_message("a@peer.test", {"u@localhost"}, kMessage)), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << postfix.maillog() << gw.log();
  EXPECT_NE(mail[0].find("by peer.test (Postfix)"), std::string::npos);
  EXPECT_NE(mail[0].find("\n.leading dot\n"), std::string::npos);
  // Postfix 3.7's SMTP client pipelines but never sends BDAT (its CHUNKING support is server-side).
  EXPECT_NE(gw.log().find("via=DATA"), std::string::npos) << gw.log();
}

TEST(Delivery, MailmoatToMailmoatUsesBdat) {
  Gateway next;
  ASSERT_TRUE(next.start()) << next.log();
  std::string hop = next.smtp_address();
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "route.0.domains=[\"*\"]", "route.0.transport=relay",
                        "route.0.next_hop=[127.0.0.1]" + hop.substr(hop.rfind(':'))}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"}, kMessage)), 250);
  auto mail = wait_for_mail(next.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  EXPECT_NE(next.log().find("via=BDAT"), std::string::npos) << next.log();
  EXPECT_NE(mail[0].find("\n.leading dot\n"), std::string::npos);
}

TEST(Delivery, ConsecutiveMessagesReuseTheNextHopConnection) {
  Gateway next;
  ASSERT_TRUE(next.start({"log.level=debug"})) << next.log();
  std::string hop = next.smtp_address();
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "route.0.domains=[\"*\"]", "route.0.transport=relay",
                        "route.0.next_hop=[127.0.0.1]" + hop.substr(hop.rfind(':')), "queue.per_destination_concurrency=1"}))
      << gw.log();
  for (int i = 0; i < 3; ++i) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"}, kMessage)), 250);
    ASSERT_EQ(wait_for_mail(next.data_dir(), "u@localhost", static_cast<std::size_t>(i + 1)).size(),
              static_cast<std::size_t>(i + 1));
  }
  // Three messages, one SMTP session at the next hop.
  std::string log = next.log();
  std::size_t connects = 0;
  for (std::size_t pos = 0; (pos = log.find("smtp.connect", pos)) != std::string::npos; ++pos) ++connects;
  EXPECT_EQ(connects, 1u) << log;
}

TEST(Delivery, PostfixAsTheNextHop) {
  SmtpSink sink;
  int pf_port = free_port();
  Postfix postfix(pf_port, {"relayhost = [127.0.0.1]:" + std::to_string(sink.port())});
  ASSERT_TRUE(postfix.started()) << postfix.maillog();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_to(postfix.address()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@remote.test"}, kMessage)), 250);
  auto got = sink.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(got.size(), 1u) << postfix.maillog() << gw.log();
  EXPECT_NE(got[0].find("(mailmoat)"), std::string::npos);
}

}  // namespace mailmoat::testing
