// libunbound resolver against a real `unbound` started here on a loopback port
// serving local-data test zones (../shared/TESTING.md), driven by Asio.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "auth/spf/spf.h"
#include "dns/unbound/asio_unbound_resolver.h"
#include "unbound_process.h"

namespace mailmoat::dns::unbound {
namespace {

class UnboundServer : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test_support::UnboundProcess("unbound");
    ASSERT_TRUE(server_->start(
        "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
        "  local-data: 'example.com. 300 IN TXT \"v=spf1 \" \"include:_spf.example.com -all\"'\n"
        "  local-data: '_spf.example.com. IN TXT \"v=spf1 mx a:relay.example.com ~all\"'\n"
        "  local-data: '_spf.example.com. IN MX 10 mx.example.com.'\n"
        "  local-data: 'mx.example.com. IN A 192.0.2.25'\n"
        "  local-data: 'mx.example.com. IN AAAA 2001:db8::25'\n"
        "  local-data: 'relay.example.com. IN A 192.0.2.26'\n"
        "  local-data: '25.2.0.192.in-addr.arpa. IN PTR mx.example.com.'\n"
        "  local-data: '25.0.0.11.in-addr.arpa. IN PTR mx.example.com.'\n"
        "  local-data: '_25._tcp.mx.example.com. IN TLSA 3 1 1 0123456789abcdef'\n"))
        << "unbound did not start";
    port_ = server_->port();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::unique_ptr<AsioUnboundResolver> make(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                            int port = 0) {
    UnboundConfig config;
    config.forwarders.push_back("127.0.0.1@" + std::to_string(port ? port : port_));
    auto r = UnboundResolver::create(config);
    EXPECT_TRUE(r) << r.error().message;
    return std::make_unique<AsioUnboundResolver>(io_.get_executor(), std::move(*r), timeout);
  }

  Answer ask(Resolver& r, std::string name, RecordType type) {
    std::optional<Answer> got;
    r.resolve(Question{std::move(name), type}, [&](Answer a) { got = std::move(a); });
    io_.restart();
    while (!got && io_.run_one_for(std::chrono::seconds(10))) {
    }
    EXPECT_TRUE(got) << "no answer";
    return got ? *got : Answer{};
  }

  boost::asio::io_context io_;
  static inline test_support::UnboundProcess* server_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(UnboundServer, AnswersEveryRecordType) {
  auto r = make();
  Answer txt = ask(*r, "example.com", RecordType::txt);
  ASSERT_EQ(txt.status, Status::ok);
  EXPECT_EQ(txt.txt, std::vector<std::string>{"v=spf1 include:_spf.example.com -all"});
  EXPECT_GT(txt.ttl, 0u);
  EXPECT_EQ(ask(*r, "mx.example.com", RecordType::a).addresses, std::vector<std::string>{"192.0.2.25"});
  EXPECT_EQ(ask(*r, "mx.example.com", RecordType::aaaa).addresses, std::vector<std::string>{"2001:db8::25"});
  Answer mx = ask(*r, "_spf.example.com", RecordType::mx);
  ASSERT_EQ(mx.mx.size(), 1u);
  EXPECT_EQ(mx.mx[0].exchange, "mx.example.com");
  EXPECT_EQ(mx.mx[0].preference, 10);
  EXPECT_EQ(ask(*r, "25.0.0.11.in-addr.arpa", RecordType::ptr).names, std::vector<std::string>{"mx.example.com"});
  // libunbound, like unbound, answers the RFC 6303 reverse zones (here
  // TEST-NET-1's) itself, so such a PTR never reaches the forwarder.
  EXPECT_EQ(ask(*r, "25.2.0.192.in-addr.arpa", RecordType::ptr).status, Status::nxdomain);
  Answer tlsa = ask(*r, "_25._tcp.mx.example.com", RecordType::tlsa);
  ASSERT_EQ(tlsa.tlsa.size(), 1u);
  EXPECT_EQ(tlsa.tlsa[0].usage, 3);
  EXPECT_EQ(tlsa.tlsa[0].data.size(), 8u);
}

TEST_F(UnboundServer, NxdomainAndNodataAreTyped) {
  auto r = make();
  EXPECT_EQ(ask(*r, "missing.example.net", RecordType::txt).status, Status::nxdomain);
  EXPECT_EQ(ask(*r, "relay.example.com", RecordType::mx).status, Status::nodata);
}

TEST_F(UnboundServer, SpfEvaluatesThroughTheEventLoop) {
  auto r = make();
  std::optional<auth::spf::SpfResult> got;
  auth::spf::check_host(*r, auth::spf::mailfrom_request(*IpAddress::parse("192.0.2.25"), "a@example.com", "mx.example.com"),
                        {}, [&](auth::spf::SpfResult res) { got = std::move(res); });
  EXPECT_FALSE(got);
  io_.restart();
  while (!got && io_.run_one_for(std::chrono::seconds(10))) {
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->verdict, auth::spf::Verdict::pass);
  EXPECT_EQ(got->dns_lookups, 2);
}

TEST_F(UnboundServer, SilentServerGivesTimeoutAfterTheBudget) {
  // A UDP socket that never answers stands in for a dead forwarder.
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  UnboundConfig config;
  config.forwarders.push_back("127.0.0.1@" + std::to_string(ntohs(a.sin_port)));
  config.use_tcp = false;
  auto ub = UnboundResolver::create(config);
  ASSERT_TRUE(ub);
  AsioUnboundResolver r(io_.get_executor(), std::move(*ub), std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  Answer ans = ask(r, "example.com", RecordType::txt);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ans.status, Status::timeout);
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_EQ(r.resolver().in_flight(), 0u);
  close(silent);
}

TEST_F(UnboundServer, SpfGivesTemperrorWhenDnsTimesOut) {
  int silent = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(silent, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(silent, reinterpret_cast<sockaddr*>(&a), &len);
  auto r = make(std::chrono::milliseconds(200), ntohs(a.sin_port));
  std::optional<auth::spf::SpfResult> got;
  auth::spf::check_host(*r, auth::spf::mailfrom_request(*IpAddress::parse("192.0.2.25"), "a@example.com", "h"), {},
                        [&](auth::spf::SpfResult res) { got = std::move(res); });
  io_.restart();
  while (!got && io_.run_one_for(std::chrono::seconds(5))) {
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->verdict, auth::spf::Verdict::temperror);
  EXPECT_EQ(got->problem, "DNS timeout for example.com");
  close(silent);
}

TEST(UnboundConfigErrors, BadForwarderIsReported) {
  UnboundConfig config;
  config.forwarders.push_back("not an address");
  auto r = UnboundResolver::create(config);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("forwarder not an address"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::dns::unbound
