// Faults around the gateway (issue 13): a next hop that resets the connection
// in the middle of DATA, and a DNS server that never answers. Each test checks
// the outcome a mail administrator relies on and that the gateway carries on
// without a restart. (Other faults have their own tests: next hop down or slow
// in delivery_test, full disk in smtp_test, kill -9 in crash_test, a sandbox
// worker that misbehaves in the attachment tests.)
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "pg_server.h"

namespace mailmoat::testing {
namespace {

const std::string kScript = std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/fault_servers.py";

bool wait_for_file(const std::string& path, int seconds = 10) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (std::ifstream(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Faults, NextHopResettingMidDataIsDeferredThenDeliveredExactlyOnce) {
  TempDir d;
  const int port = free_port();
  const std::string out = d.file("received");
  Process hop({"/usr/bin/python3", kScript, "reset-next-hop", std::to_string(port), out});
  ASSERT_TRUE(wait_for_file(out + ".ready"));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "route.0.domains=[\"*\"]", "route.0.transport=relay",
                        "route.0.next_hop=[127.0.0.1]:" + std::to_string(port), "queue.retry_base_seconds=1",
                        "queue.retry_max_seconds=2", "queue.bdat=false"}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@remote.example"},
                                      "Subject: reset me\r\n\r\nline one of the content\r\nline two\r\n")),
            250);
  ASSERT_TRUE(gw.wait_for_log("status=deferred")) << gw.log();
  ASSERT_TRUE(gw.wait_for_log("status=delivered")) << gw.log();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // no second copy follows
  const std::string got = slurp(out);
  std::size_t copies = 0;
  for (std::size_t p = got.find("Subject: reset me"); p != std::string::npos; p = got.find("Subject: reset me", p + 1))
    ++copies;
  EXPECT_EQ(copies, 1u) << got;
  EXPECT_NE(got.find("line two"), std::string::npos);
}

TEST(Faults, SilentDnsGivesTemperrorWithinTheBudgetAndTheMessageIsDelivered) {
  TempDir d;
  const int port = free_port();
  Process dns({"/usr/bin/python3", kScript, "silent-dns", std::to_string(port), d.file("dns")});
  ASSERT_TRUE(wait_for_file(d.file("dns.ready")));
  Gateway gw;
  ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(port) + "\"]",
                        "smtp.filter_budget_ms=2000"}))
      << gw.log();
  for (int round = 0; round < 2; ++round) {  // and again: nothing stays stuck
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    auto started = std::chrono::steady_clock::now();
    std::string reply = c.send_message("a@sender.example.org", {"u@localhost"},
                                       "From: a@sender.example.org\r\nSubject: no dns " + std::to_string(round) +
                                           "\r\n\r\nhi\r\n");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    EXPECT_EQ(reply_code(reply), 250) << reply;
    EXPECT_LT(took.count(), 4000) << "end of data took " << took.count() << " ms";
  }
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 2);
  ASSERT_EQ(mail.size(), 2u) << gw.log().substr(0, 3000);
  for (const auto& m : mail) {
    EXPECT_NE(m.find("spf=temperror"), std::string::npos) << m.substr(0, 1500);
    EXPECT_NE(m.find("dmarc=temperror"), std::string::npos) << m.substr(0, 1500);
  }
}

// PostgreSQL stops while mail flows: messages are still accepted and delivered
// (the trace recorder spills to disk), and once the database is back the trace
// holds them, without restarting the gateway.
TEST(Faults, StoreDownMailStillFlowsAndTheTraceCatchesUpWhenItIsBack) {
  store::testing::PgServer pg;
  ASSERT_EQ(pg.start(), "");
  const std::string url = store::testing::create_database(pg.url());
  Gateway gw;
  ASSERT_TRUE(gw.start({"store.url=" + url})) << gw.log();
  auto trace = [&](const std::string& recipient) {
    return run({"trace", "search", "--recipient", recipient, "--set", "server.data_dir=" + gw.data_dir() + "/var",
                "--set", "http.listen=" + gw.http_address(), "--set", "store.url=" + url});
  };
  auto send = [&](const std::string& rcpt) {
    SmtpClient c;
    EXPECT_TRUE(c.connect(gw.smtp_address()));
    return reply_code(c.send_message("a@sender.test", {rcpt}, "Subject: store fault\r\n\r\nhi\r\n"));
  };
  ASSERT_EQ(send("before@localhost"), 250);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "before@localhost", 1).size(), 1u);

  ASSERT_EQ(pg.stop(), "");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(send("during@localhost"), 250);
  EXPECT_EQ(wait_for_mail(gw.data_dir(), "during@localhost", 3).size(), 3u) << gw.log().substr(0, 3000);

  ASSERT_EQ(pg.restart(), "");
  bool caught_up = false;
  for (int i = 0; i < 120 && !caught_up; ++i) {
    auto r = trace("during@localhost");
    std::size_t n = 0;
    for (std::size_t p = r.out.find("during@localhost"); p != std::string::npos; p = r.out.find("during@localhost", p + 1)) ++n;
    caught_up = n >= 3;
    if (!caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(caught_up) << trace("during@localhost").out << gw.log().substr(0, 3000);
  EXPECT_EQ(send("after@localhost"), 250);
  EXPECT_EQ(wait_for_mail(gw.data_dir(), "after@localhost", 1).size(), 1u);
}

}  // namespace
}  // namespace mailmoat::testing
