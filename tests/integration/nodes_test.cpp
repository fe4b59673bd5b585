// Two `mailmoat serve` nodes sharing one PostgreSQL (started by the test in a
// temporary directory): a message received on node A is traceable through node
// B's API, and a message quarantined on node A is released from node B and
// delivered by node B.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "harness.h"
#include "pg_server.h"
#include "unbound_process.h"

namespace mailmoat::testing {

namespace {

CommandResult cli(const Gateway& gw, std::vector<std::string> args) {
  for (const auto& a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                        "http.listen=" + gw.http_address()})
    args.push_back(a);
  return run(args);
}

}  // namespace

TEST(Nodes, TwoNodesShareTraceAndQuarantineThroughPostgresql) {
  store::testing::PgServer pg;
  ASSERT_EQ(pg.start(), "");
  const std::string url = store::testing::create_database(pg.url());
  ASSERT_FALSE(url.empty());
  test_support::UnboundProcess dns("nodes");
  ASSERT_TRUE(dns.start("  module-config: \"iterator\"\n  local-zone: \".\" static\n"
                        "  local-data: 'soft.example.net. TXT \"v=spf1 -all\"'\n"
                        "  local-data: '_dmarc.soft.example.net. TXT \"v=DMARC1; p=quarantine\"'\n"));
  const std::vector<std::string> common{"store.url=\"" + url + "\"", "dns.zone_files=[]",
                                        "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns.port()) + "\"]"};
  auto with_node = [&common](const std::string& id) {
    auto o = common;
    o.push_back("server.node_id=" + id);
    return o;
  };
  Gateway a, b;
  ASSERT_TRUE(a.start(with_node("nodea"))) << a.log();
  ASSERT_TRUE(b.start(with_node("nodeb"))) << b.log();

  SmtpClient c;
  ASSERT_TRUE(c.connect(a.smtp_address()));
  std::string ok = c.send_message("alice@example.org", {"u@localhost"},
                                  "From: alice@example.org\r\nSubject: hello from A\r\n\r\nhi\r\n");
  ASSERT_EQ(reply_code(ok), 250) << ok;
  const std::string id = ok.substr(ok.find("queued as ") + 10, ok.find("\r\n") - ok.find("queued as ") - 10);
  ASSERT_EQ(wait_for_mail(a.data_dir(), "u@localhost", 1).size(), 1u);
  std::string shown;
  for (int i = 0; i < 100; ++i) {
    shown = cli(b, {"trace", "show", id}).out;
    if (shown.find("delivered") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(shown.find("delivery_attempt u@localhost -> delivered"), std::string::npos) << shown;

  SmtpClient q;
  ASSERT_TRUE(q.connect(a.smtp_address()));
  ASSERT_EQ(reply_code(q.send_message("x@soft.example.net", {"v@localhost"},
                                      "From: x@soft.example.net\r\nSubject: spoofed\r\n\r\nb\r\n")),
            250);
  nlohmann::json items;
  for (int i = 0; i < 100; ++i) {
    items = nlohmann::json::parse(cli(b, {"quarantine", "list", "--json"}).out, nullptr, false);
    if (!items.is_discarded() && items["items"].size() == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(items.is_discarded());
  ASSERT_EQ(items["items"].size(), 1u) << items.dump();
  const std::string item = std::to_string(items["items"][0]["id"].get<long long>());
  auto released = cli(b, {"quarantine", "release", item});
  ASSERT_EQ(released.exit_code, 0) << released.err;
  auto mail = wait_for_mail(b.data_dir(), "v@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("X-Mailmoat-Released: quarantine=" + item), std::string::npos) << mail[0];
  EXPECT_TRUE(mailbox(a.data_dir(), "v@localhost").empty());
  // Node A sees the release too.
  auto on_a = nlohmann::json::parse(cli(a, {"quarantine", "list", "--state", "released", "--json"}).out, nullptr, false);
  ASSERT_FALSE(on_a.is_discarded());
  EXPECT_EQ(on_a["items"].size(), 1u);
  a.stop();
  b.stop();
}

}  // namespace mailmoat::testing
