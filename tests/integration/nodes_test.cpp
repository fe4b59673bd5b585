// Two `mailmoat serve` nodes sharing one PostgreSQL (started by the test in a
// temporary directory): a message received on node A is traceable through node
// B's API, a message quarantined on node A is released from node B and
// delivered by node B, and a Safe Links URL rewritten on node A is served by
// node B (the nodes share links.keys and links.public_url) with the click
// readable through node A's API.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
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

std::string header(const std::string& headers, const std::string& name) {
  std::size_t at = headers.find("\n" + name + ": ");
  if (at == std::string::npos) return {};
  std::size_t end = headers.find('\r', at + 1);
  return headers.substr(at + name.size() + 3, end - at - name.size() - 3);
}

std::string token_of(const Gateway& gw) {
  std::ifstream tf(gw.data_dir() + "/var/admin.token");
  std::string token;
  std::getline(tf, token);
  return token;
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

// The click service behind one public URL (a load balancer in front of both
// nodes): whichever node rewrote the link, any node verifies it, because the
// signing keys come from configuration shared by the nodes, and the click is
// written to the shared store.
TEST(Nodes, SafeLinksUrlRewrittenOnNodeAIsServedByNodeB) {
  store::testing::PgServer pg;
  ASSERT_EQ(pg.start(), "");
  const std::string url = store::testing::create_database(pg.url());
  ASSERT_FALSE(url.empty());
  const std::string public_url = "https://links.example.com";
  auto overrides = [&url, &public_url](const std::string& id) {
    return std::vector<std::string>{"store.url=\"" + url + "\"", "server.node_id=" + id, "links.enabled=true",
                                    "links.public_url=" + public_url,
                                    "links.keys=[\"shared-key-of-both-nodes-0123456789\"]"};
  };
  Gateway a, b;
  ASSERT_TRUE(a.start(overrides("nodea"))) << a.log();
  ASSERT_TRUE(b.start(overrides("nodeb"))) << b.log();

  SmtpClient c;
  ASSERT_TRUE(c.connect(a.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.org", {"u@localhost"},
                                      "From: news@example.org\r\nSubject: links via A\r\n\r\n"
                                      "Read http://allowed.example.com/page today.\r\n")),
            250);
  auto mail = wait_for_mail(a.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << a.log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(mail[0], m, std::regex(public_url + R"((/v1/l\?[A-Za-z0-9%._~&=-]*[A-Za-z0-9_-]))")))
      << mail[0];
  const std::string target = m[1].str();
  EXPECT_EQ(mail[0].find("http://allowed.example.com/page"), std::string::npos) << mail[0];

  // Node B, which never saw the message, redirects.
  auto on_b = http_request(b.http_address(), "GET", target, "", {"User-Agent: Mozilla/5.0 node test"});
  EXPECT_EQ(on_b.status, 302) << on_b.body;
  EXPECT_EQ(header(on_b.headers, "Location"), "http://allowed.example.com/page") << on_b.headers;

  // A token altered to point elsewhere is refused on B as it would be on A.
  std::string forged = target;
  forged.replace(forged.find("allowed.example.com"), 19, "evilsite.example.com");
  auto refused = http_request(b.http_address(), "GET", forged, "", {"User-Agent: Mozilla/5.0 node test"});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.headers.find("Location:"), std::string::npos) << refused.headers;
  EXPECT_NE(refused.body.find("not valid"), std::string::npos) << refused.body;

  // A node with other keys does not accept the link: the keys are what the nodes share.
  Gateway stranger;
  auto other = overrides("nodec");
  other.back() = "links.keys=[\"another-key-not-shared-9876543210\"]";
  ASSERT_TRUE(stranger.start(other)) << stranger.log();
  EXPECT_EQ(http_request(stranger.http_address(), "GET", target, "", {"User-Agent: Mozilla/5.0 node test"}).status, 400);

  // The click B served is in the click trace read through A's API.
  nlohmann::json clicks;
  for (int i = 0; i < 200; ++i) {
    auto r = http_request(a.http_address(), "GET", "/api/v1/clicks?recipient=u@localhost", "",
                          {"Authorization: Bearer " + token_of(a)});
    ASSERT_EQ(r.status, 200) << r.body;
    clicks = nlohmann::json::parse(r.body)["clicks"];
    if (!clicks.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(clicks.size(), 1u) << clicks.dump(2);
  EXPECT_EQ(clicks[0]["url"], "http://allowed.example.com/page");
  EXPECT_EQ(clicks[0]["action"], "allowed");
  EXPECT_EQ(clicks[0]["user_agent"], "Mozilla/5.0 node test");
  stranger.stop();
  a.stop();
  b.stop();
}

}  // namespace mailmoat::testing
