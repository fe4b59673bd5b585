// DANE for SMTP (RFC 7672) end to end: a real unbound serves example.net as a
// zone signed by ldns-signzone (MX, A and TLSA records), the sending gateway's
// libunbound validates it with that zone's DS as trust anchor, and another
// mailmoat is the MX host. Matching TLSA (DANE-EE and DANE-TA) -> delivered,
// mismatching -> deferred with 4.7.5 and the reason, an unsigned zone (no
// anchor covers it) -> DANE not applied, dane-only there -> deferred.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <thread>

#include "harness.h"
#include "tls_certs.h"
#include "unbound_process.h"

namespace mailmoat::testing {
namespace {

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool wait_for_log(const Gateway& gw, const std::string& text, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (gw.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

class DaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int p = free_port();
    net_ = "127.78." + std::to_string(p % 250 + 1) + ".";
    mx_net_ = net_ + std::to_string(p / 250 % 120 + 2);
    mx_org_ = net_ + std::to_string(p / 250 % 120 + 130);
    ASSERT_TRUE(make_tls_certs(d_));
    ASSERT_TRUE(make_leaf_cert(d_, "mxnet", "mx.example.net"));
    ASSERT_TRUE(make_leaf_cert(d_, "mxorg", "mx.example.org"));
    // The server sends its chain with the CA: DANE-TA(2) 0 needs the anchor in the chain (RFC 7671 §5.2.2).
    ASSERT_EQ(std::system(("cd " + d_.path() + " && cat mxnet.pem ca.pem > mxnet-chain.pem").c_str()), 0);
    spki_sha256_ = shell("cd " + d_.path() +
                         " && openssl x509 -in mxnet.pem -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64");
    ca_sha256_ = shell("cd " + d_.path() + " && openssl x509 -in ca.pem -outform DER | sha256sum | cut -c1-64");
    ASSERT_EQ(spki_sha256_.size(), 64u);
    ASSERT_EQ(ca_sha256_.size(), 64u);
  }

  // Signs example.net with `tlsa` for mx.example.net, writes example.org unsigned, starts unbound and both gateways.
  void start(const std::string& tlsa, const std::string& level = "dane") {
    d_.write("example.net.zone", "$ORIGIN example.net.\n$TTL 300\n"
                                 "@ IN SOA ns.example.net. admin.example.net. 1 3600 600 86400 300\n"
                                 "@ IN NS ns.example.net.\nns IN A 127.0.0.1\n@ IN MX 10 mx.example.net.\n"
                                 "mx IN A " + mx_net_ + "\n_25._tcp.mx IN TLSA " + tlsa + "\n");
    d_.write("example.org.zone", "$ORIGIN example.org.\n$TTL 300\n"
                                 "@ IN SOA ns.example.org. admin.example.org. 1 3600 600 86400 300\n"
                                 "@ IN NS ns.example.org.\nns IN A 127.0.0.1\n@ IN MX 10 mx.example.org.\n"
                                 "mx IN A " + mx_org_ + "\n_25._tcp.mx IN TLSA 3 1 1 " + std::string(64, '0') + "\n");
    const std::string key = shell("cd " + d_.path() + " && ldns-keygen -a ECDSAP256SHA256 -k example.net");
    ASSERT_FALSE(key.empty());
    ASSERT_EQ(std::system(("cd " + d_.path() + " && ldns-signzone example.net.zone " + key + " && cp " + key +
                           ".ds trust-anchor.txt && chmod 644 *")
                              .c_str()),
              0);
    ASSERT_TRUE(dns_.start("  module-config: \"iterator\"\n",
                           "auth-zone:\n  name: \"example.net\"\n  zonefile: \"" + d_.file("example.net.zone.signed") +
                               "\"\n  for-downstream: yes\n  for-upstream: no\n"
                               "auth-zone:\n  name: \"example.org\"\n  zonefile: \"" + d_.file("example.org.zone") +
                               "\"\n  for-downstream: yes\n  for-upstream: no\n"));
    ASSERT_TRUE(mx_.start({"smtp.listener.0.address=" + mx_net_ + ":25", "smtp.listener.0.tls_cert=" + d_.file("mxnet-chain.pem"),
                           "smtp.listener.0.tls_key=" + d_.file("mxnet.key"),
                           "smtp.listener.1.address=" + mx_org_ + ":25", "smtp.listener.1.tls_cert=" + d_.file("mxorg.pem"),
                           "smtp.listener.1.tls_key=" + d_.file("mxorg.key"),
                           "smtp.accepted_domains=[\"example.net\", \"example.org\"]", "route.0.domains=[\"*\"]"}))
        << mx_.log();
    ASSERT_TRUE(gw_.start({"smtp.listener.0.role=relay", "dns.zone_files=[]",
                           "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns_.port()) + "\"]",
                           "dns.trust_anchor_file=" + d_.file("trust-anchor.txt"), "auth.dmarc=false",
                           "tls.outbound_level=" + level, "log.level=debug", "queue.retry_base_seconds=600"}))
        << gw_.log();
  }

  void send_to(const std::string& rcpt) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw_.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message("a@localhost", {rcpt}, "From: a@localhost\r\nSubject: dane\r\n\r\nbody\r\n")), 250);
  }

  TempDir d_;
  std::string net_, mx_net_, mx_org_, spki_sha256_, ca_sha256_;
  test_support::UnboundProcess dns_{"dane"};
  Gateway mx_;
  Gateway gw_;
};

TEST_F(DaneTest, MatchingDaneEeRecordDeliversOverAuthenticatedTls) {
  start("3 1 1 " + spki_sha256_);
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(mail[0].find("with ESMTPS"), std::string::npos) << mail[0];
  EXPECT_NE(gw_.log().find("DANE-EE 3 1 1"), std::string::npos) << gw_.log();
  EXPECT_NE(gw_.log().find("matched at depth 0"), std::string::npos) << gw_.log();
}

TEST_F(DaneTest, MatchingDaneTaRecordDeliversWithTheMxNameChecked) {
  start("2 0 1 " + ca_sha256_);
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(gw_.log().find("DANE-TA 2 0 1"), std::string::npos) << gw_.log();
}

TEST_F(DaneTest, MismatchingTlsaRecordDefersWithTheReason) {
  start("3 1 1 " + std::string(64, 'a'));
  send_to("r@example.net");
  ASSERT_TRUE(wait_for_log(gw_, "no TLSA record matched")) << gw_.log();
  EXPECT_NE(gw_.log().find("4.7.5 TLS policy dane (DANE TLSA _25._tcp.mx.example.net"), std::string::npos) << gw_.log();
  EXPECT_NE(gw_.log().find("status=deferred"), std::string::npos) << gw_.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.net").empty());
}

TEST_F(DaneTest, PkixUsagesAreUnusableAndDaneOnlyDefers) {
  start("1 1 1 " + spki_sha256_, "dane-only");
  send_to("r@example.net");
  ASSERT_TRUE(wait_for_log(gw_, "are all unusable")) << gw_.log();
  EXPECT_NE(gw_.log().find("PKIX-EE is unusable for SMTP"), std::string::npos) << gw_.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.net").empty());
}

TEST_F(DaneTest, UnsignedZoneGetsNoDane) {
  start("3 1 1 " + spki_sha256_);
  send_to("r@example.org");  // its TLSA record would not match, but nothing validates it
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(gw_.log().find("dane not applied: the MX or address records of mx.example.org are not DNSSEC-validated"),
            std::string::npos)
      << gw_.log();
}

TEST_F(DaneTest, UnsignedZoneWithDaneOnlyDefers) {
  start("3 1 1 " + spki_sha256_, "dane-only");
  send_to("r@example.org");
  ASSERT_TRUE(wait_for_log(gw_, "TLS policy dane-only (tls.outbound_level): the MX or address records of mx.example.org"))
      << gw_.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.org").empty());
}

}  // namespace
}  // namespace mailmoat::testing
