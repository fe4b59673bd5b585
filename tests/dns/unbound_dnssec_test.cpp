// DNSSEC through the libunbound resolver: a zone signed here with
// ldns-signzone, served by a real unbound (auth-zone), validated against the
// zone's DS as trust anchor. Secure answers carry `authenticated`; a wrong
// anchor makes them bogus, which the resolver reports as SERVFAIL with
// `bogus` set. An answer reached through a CNAME names the chain's end.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "dns/unbound/asio_unbound_resolver.h"
#include "unbound_process.h"

namespace mailmoat::dns::unbound {
namespace {

class SignedZone : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new test_support::UnboundProcess("dnssec");
    const auto& d = server_->dir();
    std::ofstream(d / "signed.example.net.zone") << "$ORIGIN signed.example.net.\n$TTL 300\n"
                                              "@ IN SOA ns.signed.example.net. admin.signed.example.net. 1 3600 600 86400 300\n"
                                              "@ IN NS ns.signed.example.net.\nns IN A 127.0.0.1\n"
                                              "@ IN TXT \"v=spf1 -all\"\n"
                                              "_25._tcp.mx IN TLSA 3 1 1 0123456789abcdef\n"
                                              "mx IN A 192.0.2.25\nalias IN CNAME mx.signed.example.net.\n";
    // One key signs the zone; a second, unused key gives a wrong anchor.
    std::string cmd = "cd '" + d.string() +
                      "' && K=$(ldns-keygen -a ECDSAP256SHA256 -k signed.example.net) && "
                      "ldns-signzone signed.example.net.zone $K && cp $K.ds good.ds && "
                      "mkdir other && cd other && K2=$(ldns-keygen -a ECDSAP256SHA256 -k signed.example.net) && "
                      "cp $K2.ds ../wrong.ds";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "ldns-keygen/ldns-signzone failed";
    ASSERT_TRUE(server_->start("  module-config: \"iterator\"\n",
                               "auth-zone:\n  name: \"signed.example.net.\"\n  zonefile: \"" +
                                   (d / "signed.example.net.zone.signed").string() +
                                   "\"\n  for-downstream: yes\n  for-upstream: no\n"))
        << "unbound did not start";
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  Answer ask(const std::string& anchor, std::string name, RecordType type) {
    UnboundConfig config;
    config.forwarders.push_back("127.0.0.1@" + std::to_string(server_->port()));
    config.trust_anchor_file = (server_->dir() / anchor).string();
    auto ub = UnboundResolver::create(config);
    EXPECT_TRUE(ub) << ub.error().message;
    AsioUnboundResolver r(io_.get_executor(), std::move(*ub), std::chrono::seconds(10));
    std::optional<Answer> got;
    r.resolve(Question{std::move(name), type}, [&](Answer a) { got = std::move(a); });
    while (!got && io_.run_one_for(std::chrono::seconds(15))) {
    }
    EXPECT_TRUE(got);
    return got ? *got : Answer{};
  }

  boost::asio::io_context io_;
  static inline test_support::UnboundProcess* server_ = nullptr;
};

TEST_F(SignedZone, ValidatedAnswersAreAuthenticated) {
  Answer txt = ask("good.ds", "signed.example.net", RecordType::txt);
  ASSERT_EQ(txt.status, Status::ok);
  EXPECT_EQ(txt.txt, std::vector<std::string>{"v=spf1 -all"});
  EXPECT_TRUE(txt.authenticated);
  Answer tlsa = ask("good.ds", "_25._tcp.mx.signed.example.net", RecordType::tlsa);
  ASSERT_EQ(tlsa.status, Status::ok);
  EXPECT_TRUE(tlsa.authenticated);
}

TEST_F(SignedZone, ProvenNonexistenceIsAuthenticatedNxdomain) {
  Answer a = ask("good.ds", "missing.signed.example.net", RecordType::a);
  EXPECT_EQ(a.status, Status::nxdomain);
  EXPECT_TRUE(a.authenticated);
}

TEST_F(SignedZone, WrongTrustAnchorMakesAnswersBogus) {
  Answer txt = ask("wrong.ds", "signed.example.net", RecordType::txt);
  EXPECT_EQ(txt.status, Status::servfail);
  EXPECT_FALSE(txt.authenticated);
  EXPECT_TRUE(txt.bogus);
}

TEST_F(SignedZone, CnameAnswersNameTheExpandedName) {
  Answer a = ask("good.ds", "alias.signed.example.net", RecordType::a);
  ASSERT_EQ(a.status, Status::ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.25"});
  EXPECT_EQ(a.canonical_name, "mx.signed.example.net");
  EXPECT_TRUE(a.authenticated);
  EXPECT_FALSE(a.bogus);
  Answer direct = ask("good.ds", "mx.signed.example.net", RecordType::a);
  EXPECT_EQ(direct.canonical_name, "");
}

}  // namespace
}  // namespace mailmoat::dns::unbound
