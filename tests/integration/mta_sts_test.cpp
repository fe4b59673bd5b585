// MTA-STS (RFC 8461) with a real unbound serving _mta-sts, MX and address
// records, an HTTPS policy server started by the test, and a mailmoat as the
// MX host: an enforce policy listing the MX delivers over verified TLS; one
// that lists another host defers; a policy server whose certificate does not
// verify means no policy (delivery goes on opportunistically); a policy past
// its max_age is fetched again, and is not enforced once expired when that
// fetch fails (RFC 8461 §5.1, docs/tls.md). TLS-RPT (RFC 8460): each MTA-STS
// failure (policy server unreachable, bad policy, policy server certificate,
// enforce policy naming no MX) and testing-mode sessions appear in the report
// JSON POSTed to the https rua of _smtp._tls.example.org under policy type sts.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <thread>

#include "harness.h"
#include "tls_certs.h"
#include "tlsrpt_check.h"
#include "unbound_process.h"

namespace mailmoat::testing {
namespace {

// Loopback addresses of their own (port 25 and 443 are fixed by the protocols).
struct Addresses {
  std::string mx, web, rpt;
  Addresses() {
    int p = free_port();
    std::string net = "127.77." + std::to_string(p % 250 + 1) + ".";
    mx = net + std::to_string(p / 250 % 120 + 2);
    web = net + std::to_string(p / 250 % 120 + 130);
    rpt = "127.79." + std::to_string(p % 250 + 1) + "." + std::to_string(p / 250 % 120 + 2);
  }
};

class MtaStsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_tls_certs(d_));
    ASSERT_TRUE(make_leaf_cert(d_, "mxorg", "mx.example.org"));
    ASSERT_TRUE(make_leaf_cert(d_, "sts", "mta-sts.example.org"));
    ASSERT_TRUE(make_leaf_cert(d_, "stswrong", "mta-sts.other.test"));
    ASSERT_TRUE(dns_.start("  module-config: \"iterator\"\n  local-zone: \".\" static\n"
                           "  local-data: 'example.org. MX 10 mx.example.org.'\n"
                           "  local-data: 'mx.example.org. A " + a_.mx + "'\n"
                           "  local-data: '_mta-sts.example.org. TXT \"v=STSv1; id=20261128\"'\n"
                           "  local-data: 'mta-sts.example.org. A " + a_.web + "'\n"
                           "  local-data: '_smtp._tls.example.org. TXT \"v=TLSRPTv1; rua=https://tlsrpt.example.org/v1/r\"'\n"
                           "  local-data: 'tlsrpt.example.org. A " + a_.rpt + "'\n"));
    ASSERT_TRUE(mx_.start({"smtp.listener.0.address=" + a_.mx + ":25", "smtp.listener.0.tls_cert=" + d_.file("mxorg.pem"),
                           "smtp.listener.0.tls_key=" + d_.file("mxorg.key"),
                           "smtp.accepted_domains=[\"example.org\"]", "route.0.domains=[\"*\"]"}))
        << mx_.log();
  }

  void serve_policy(const std::string& policy, const std::string& cert = "sts") {
    d_.write("mta-sts.txt", policy);
    web_.start({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/https_server.py", a_.web,
                "443", d_.file(cert + ".pem"), d_.file(cert + ".key"), d_.path()},
               d_.file("https.log"));
    ASSERT_TRUE(wait_for_port(a_.web + ":443"));
  }

  void start_sender(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> config{"smtp.listener.0.role=relay", "dns.zone_files=[]",
                                    "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns_.port()) + "\"]", "auth.dmarc=false",
                                    "tls.outbound_ca_file=" + d_.file("ca.pem"), "log.level=debug",
                                    "queue.retry_base_seconds=600"};
    config.insert(config.end(), extra.begin(), extra.end());
    ASSERT_TRUE(gw_.start(config)) << gw_.log();
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw_.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@example.org"}, "From: a@localhost\r\nSubject: sts\r\n\r\nbody\r\n")),
              250);
  }

  void send(const std::string& rcpt) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw_.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message("a@localhost", {rcpt}, "From: a@localhost\r\nSubject: sts\r\n\r\nbody\r\n")), 250);
  }

  // TLS-RPT on, and the https rua (tlsrpt.example.org) listening; then the sender as start_sender.
  void start_reporting_sender() {
    ASSERT_TRUE(make_leaf_cert(d_, "rpt", "tlsrpt.example.org"));
    ASSERT_EQ(std::system(("mkdir -p " + d_.file("rpt")).c_str()), 0);
    rpt_.start({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/https_server.py", a_.rpt,
                "443", d_.file("rpt.pem"), d_.file("rpt.key"), d_.file("rpt")},
               d_.file("rpt.log"));
    ASSERT_TRUE(wait_for_port(a_.rpt + ":443"));
    start_sender({"tlsrpt.enabled=true", "tlsrpt.from=reports@localhost", "tlsrpt.org_name=sender.example"});
  }

  std::string report() const { return tlsrpt_report_summary(gw_, d_.file("rpt")); }

  std::size_t count(const std::string& text) const {
    std::size_t n = 0;
    const std::string log = gw_.log();
    for (auto pos = log.find(text); pos != std::string::npos; pos = log.find(text, pos + 1)) ++n;
    return n;
  }

  TempDir d_;
  Addresses a_;
  test_support::UnboundProcess dns_{"mta-sts"};
  Gateway mx_;
  Process web_;
  Process rpt_;
  Gateway gw_;
};

TEST_F(MtaStsTest, EnforcePolicyListingTheMxDeliversOverVerifiedTls) {
  serve_policy("version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 86400\n");
  start_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(mail[0].find("with ESMTPS"), std::string::npos) << mail[0];
  EXPECT_NE(gw_.log().find("fetched policy id 20261128"), std::string::npos) << gw_.log();
  EXPECT_NE(gw_.log().find("certificate CN=mx.example.org verified"), std::string::npos) << gw_.log();
}

TEST_F(MtaStsTest, EnforcePolicyListingAnotherHostDefers) {
  serve_policy("version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 86400\n");
  start_sender();
  ASSERT_TRUE(gw_.wait_for_log("lists none of its MX hosts")) << gw_.log();
  EXPECT_NE(gw_.log().find("status=deferred"), std::string::npos) << gw_.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.org").empty());
}

TEST_F(MtaStsTest, PolicyServerWithAnUnverifiableCertificateMeansNoPolicy) {
  serve_policy("version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 86400\n", "stswrong");
  start_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_NE(gw_.log().find("no MTA-STS policy: TLS with mta-sts.example.org failed"), std::string::npos) << gw_.log();
}

TEST_F(MtaStsTest, MalformedPolicyIsIgnoredWithTheReason) {
  serve_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n");  // no mx
  start_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_NE(gw_.log().find("no MTA-STS policy: no mx field"), std::string::npos) << gw_.log();
}

TEST_F(MtaStsTest, ExpiredPolicyIsFetchedAgainEvenWithTheSameId) {
  serve_policy("version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 4\n");
  start_sender();
  ASSERT_TRUE(gw_.wait_for_log("lists none of its MX hosts")) << gw_.log();
  // Same TXT id, new policy: only the expiry of max_age makes the gateway look again.
  d_.write("mta-sts.txt", "version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 86400\n");
  std::this_thread::sleep_for(std::chrono::seconds(5));
  send("r2@example.org");
  auto mail = wait_for_mail(mx_.data_dir(), "r2@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_EQ(count("fetched policy id 20261128"), 2u) << gw_.log();
  EXPECT_NE(gw_.log().find("certificate CN=mx.example.org verified"), std::string::npos) << gw_.log();
}

TEST_F(MtaStsTest, CachedPolicyHoldsUntilMaxAgeThenAFailedFetchMeansNoPolicy) {
  serve_policy("version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 6\n");
  start_sender();
  ASSERT_TRUE(gw_.wait_for_log("lists none of its MX hosts")) << gw_.log();
  web_.stop();
  // Within max_age the cached policy is enforced though its server is gone (RFC 8461 §5.1).
  send("r2@example.org");
  ASSERT_TRUE(gw_.wait_for_log("cached policy id 20261128")) << gw_.log();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  const std::string refused = "status=deferred reply=\"451 4.7.5 MTA-STS policy of example.org (id 20261128, enforce)";
  while (count(refused) < 2 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(count(refused), 2u) << gw_.log();
  // Past max_age, a failed fetch leaves no policy: the expired one is not enforced.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  send("r3@example.org");
  auto mail = wait_for_mail(mx_.data_dir(), "r3@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_NE(gw_.log().find("no MTA-STS policy: cannot connect to mta-sts.example.org"), std::string::npos) << gw_.log();
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r2@example.org").empty());
}

// RFC 8460 §4.3.2.2: a published policy that cannot be fetched is reported, delivery goes on without it.
TEST_F(MtaStsTest, UnreachablePolicyServerIsReportedAsFetchError) {
  start_reporting_sender();  // no policy server listens at mta-sts.example.org
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_EQ(report(), "sts example.org [] ok=0 failed=1 sts-policy-fetch-error@mx.example.org#1") << gw_.log();
}

TEST_F(MtaStsTest, MalformedPolicyIsReportedAsInvalid) {
  serve_policy("version: STSv1\nmode: enforce\nmax_age: 86400\n");  // no mx
  start_reporting_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_EQ(report(), "sts example.org [] ok=0 failed=1 sts-policy-invalid@mx.example.org#1") << gw_.log();
}

TEST_F(MtaStsTest, PolicyServerCertificateFailureIsReportedAsWebpkiInvalid) {
  serve_policy("version: STSv1\nmode: enforce\nmx: mx.example.org\nmax_age: 86400\n", "stswrong");
  start_reporting_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_EQ(report(), "sts example.org [] ok=0 failed=1 sts-webpki-invalid@mx.example.org#1") << gw_.log();
}

TEST_F(MtaStsTest, EnforcePolicyNamingNoMxIsReportedAsValidationFailure) {
  serve_policy("version: STSv1\nmode: enforce\nmx: other.example.org\nmax_age: 86400\n");
  start_reporting_sender();
  ASSERT_TRUE(gw_.wait_for_log("lists none of its MX hosts")) << gw_.log();
  EXPECT_EQ(report(),
            "sts example.org [version: STSv1|mode: enforce|mx: other.example.org|max_age: 86400] ok=0 failed=1 "
            "validation-failure@mx.example.org#1")
      << gw_.log();
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.org").empty());
}

// RFC 8461 §5 and RFC 8460 §4.4: a testing policy is reported under its own type and text, not as no policy.
TEST_F(MtaStsTest, TestingPolicySessionsAreReportedUnderSts) {
  serve_policy("version: STSv1\nmode: testing\nmx: mx.example.org\nmax_age: 86400\n");
  start_reporting_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_NE(mail[0].find("with ESMTPS"), std::string::npos) << mail[0];
  EXPECT_EQ(report(), "sts example.org [version: STSv1|mode: testing|mx: mx.example.org|max_age: 86400] ok=1 failed=0")
      << gw_.log();
}

TEST_F(MtaStsTest, TestingPolicyFailureIsReportedAndMailStillDelivered) {
  serve_policy("version: STSv1\nmode: testing\nmx: other.example.org\nmax_age: 86400\n");
  start_reporting_sender();
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log();
  EXPECT_EQ(report(),
            "sts example.org [version: STSv1|mode: testing|mx: other.example.org|max_age: 86400] ok=0 failed=1 "
            "validation-failure@mx.example.org#1")
      << gw_.log();
}

}  // namespace
}  // namespace mailmoat::testing
