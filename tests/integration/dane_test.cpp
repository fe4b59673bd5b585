// DANE for SMTP (RFC 7672) end to end: a real unbound serves example.net as a
// zone signed by ldns-signzone (MX, A and TLSA records), the sending gateway's
// libunbound validates it with that zone's DS as trust anchor, and another
// mailmoat is the MX host. Matching TLSA (DANE-EE and DANE-TA) -> delivered,
// mismatching -> deferred with 4.7.5 and the reason, an unsigned zone (no
// anchor covers it) -> DANE not applied, dane-only there -> deferred. And
// TLS-RPT (RFC 8460): a failing and a succeeding session to example.net are
// reported by `mailmoat tlsrpt report` to the rua of _smtp._tls.example.net,
// a mailbox on the example.org MX, as gzip JSON in a multipart/report; the
// failures found before a session (tlsa-invalid, dnssec-invalid from a
// tampered signed zone, dane-required) appear in the report POSTed to the
// https rua. MX names that are CNAMEs get their TLSA records at the secure
// expansion, else at the original name (RFC 7672 §2.2.2).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <thread>

#include "harness.h"
#include "tls_certs.h"
#include "tlsrpt_check.h"
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
    const int x = p / 250 % 60;  // four distinct addresses in 127.78.N.2-251
    mx_net_ = net_ + std::to_string(x + 2);
    mx_bad_ = net_ + std::to_string(x + 64);
    mx_org_ = net_ + std::to_string(x + 130);
    web_addr_ = net_ + std::to_string(x + 192);
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
  void start(const std::string& tlsa, const std::string& level = "dane", const std::string& extra_zone = "",
             const std::vector<std::string>& extra_config = {}) {
    d_.write("example.net.zone", "$ORIGIN example.net.\n$TTL 300\n"
                                 "@ IN SOA ns.example.net. admin.example.net. 1 3600 600 86400 300\n"
                                 "@ IN NS ns.example.net.\nns IN A 127.0.0.1\n@ IN MX 10 mx.example.net.\n"
                                 "mx IN A " + mx_net_ + "\n_25._tcp.mx IN TLSA " + tlsa + "\n" + extra_zone);
    d_.write("example.org.zone", "$ORIGIN example.org.\n$TTL 300\n"
                                 "@ IN SOA ns.example.org. admin.example.org. 1 3600 600 86400 300\n"
                                 "@ IN NS ns.example.org.\nns IN A 127.0.0.1\n@ IN MX 10 mx.example.org.\n"
                                 "mx IN A " + mx_org_ + "\n_25._tcp.mx IN TLSA 3 1 1 " + std::string(64, '0') + "\n" +
                                 org_extra_);
    const std::string key = shell("cd " + d_.path() + " && ldns-keygen -a ECDSAP256SHA256 -k example.net");
    ASSERT_FALSE(key.empty());
    ASSERT_EQ(std::system(("cd " + d_.path() + " && ldns-signzone example.net.zone " + key + " && cp " + key +
                           ".ds trust-anchor.txt && chmod 644 *")
                              .c_str()),
              0);
    if (!after_sign_.empty()) {
      ASSERT_EQ(std::system(("cd " + d_.path() + " && " + after_sign_).c_str()), 0);
    }
    ASSERT_TRUE(dns_.start("  module-config: \"iterator\"\n",
                           "auth-zone:\n  name: \"example.net\"\n  zonefile: \"" + d_.file("example.net.zone.signed") +
                               "\"\n  for-downstream: yes\n  for-upstream: no\n"
                               "auth-zone:\n  name: \"example.org\"\n  zonefile: \"" + d_.file("example.org.zone") +
                               "\"\n  for-downstream: yes\n  for-upstream: no\n"));
    ASSERT_TRUE(mx_.start({"smtp.listener.0.address=" + mx_net_ + ":25", "smtp.listener.0.tls_cert=" + d_.file("mxnet-chain.pem"),
                           "smtp.listener.0.tls_key=" + d_.file("mxnet.key"),
                           "smtp.listener.1.address=" + mx_org_ + ":25", "smtp.listener.1.tls_cert=" + d_.file("mxorg.pem"),
                           "smtp.listener.1.tls_key=" + d_.file("mxorg.key"),
                           "smtp.listener.2.address=" + mx_bad_ + ":25", "smtp.listener.2.tls_cert=" + d_.file("mxnet-chain.pem"),
                           "smtp.listener.2.tls_key=" + d_.file("mxnet.key"),
                           "smtp.accepted_domains=[\"example.net\", \"example.org\"]", "route.0.domains=[\"*\"]"}))
        << mx_.log();
    std::vector<std::string> config{"smtp.listener.0.role=relay", "dns.zone_files=[]",
                                    "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns_.port()) + "\"]",
                                    "dns.trust_anchor_file=" + d_.file("trust-anchor.txt"), "auth.dmarc=false",
                                    "tls.outbound_level=" + level, "log.level=debug", "queue.retry_base_seconds=600"};
    config.insert(config.end(), extra_config.begin(), extra_config.end());
    ASSERT_TRUE(gw_.start(config)) << gw_.log();
  }

  void send_to(const std::string& rcpt) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw_.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message("a@localhost", {rcpt}, "From: a@localhost\r\nSubject: dane\r\n\r\nbody\r\n")), 250);
  }

  // TLS-RPT for a zone: its rua is https://tlsrpt.example.net/v1/report (web_addr_).
  std::string rua_zone() const {
    return "_smtp._tls IN TXT \"v=TLSRPTv1; rua=https://tlsrpt.example.net/v1/report\"\n";
  }
  std::vector<std::string> reporting() const {
    return {"tlsrpt.enabled=true", "tlsrpt.from=reports@localhost", "tlsrpt.org_name=sender.example",
            "tls.outbound_ca_file=" + d_.file("ca.pem")};
  }
  void start_report_server() {
    ASSERT_TRUE(make_leaf_cert(d_, "web", "tlsrpt.example.net"));
    ASSERT_EQ(std::system(("mkdir -p " + d_.file("rpt")).c_str()), 0);
    web_.start({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/https_server.py", web_addr_,
                "443", d_.file("web.pem"), d_.file("web.key"), d_.file("rpt")},
               d_.file("https.log"));
    ASSERT_TRUE(wait_for_port(web_addr_ + ":443"));
  }
  std::string report() const { return tlsrpt_report_summary(gw_, d_.file("rpt")); }

  TempDir d_;
  std::string org_extra_, after_sign_;  // more example.org records; a shell command run on the signed zone
  std::string net_, mx_net_, mx_org_, mx_bad_, web_addr_, spki_sha256_, ca_sha256_;
  Process web_;
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

TEST_F(DaneTest, DaneTaChecksTheMxHostName) {
  // mx1 presents a certificate for mx.example.net, chained to the CA its DANE-TA record names:
  // the anchor matches, the name does not (RFC 7672 §3.2.2), so mx1 fails and mx is tried.
  start("2 0 1 " + ca_sha256_, "dane",
        "@ IN MX 5 mx1.example.net.\nmx1 IN A " + mx_bad_ + "\n_25._tcp.mx1 IN TLSA 2 0 1 " + ca_sha256_ + "\n");
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(gw_.log().find("hostname mismatch"), std::string::npos) << gw_.log();
  EXPECT_NE(gw_.log().find("DANE-TA 2 0 1"), std::string::npos) << gw_.log();
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

TEST_F(DaneTest, TlsRptReportOfSucceedingAndFailingSessionsReachesTheRua) {
  // mx1 (preference 5) has a TLSA record that does not match: that session fails and delivery
  // moves on to mx (preference 10), whose record matches.
  start("3 1 1 " + spki_sha256_, "dane",
        "@ IN MX 5 mx1.example.net.\nmx1 IN A " + mx_bad_ + "\n_25._tcp.mx1 IN TLSA 3 1 1 " + std::string(64, 'b') +
            "\n_smtp._tls IN TXT \"v=TLSRPTv1; rua=mailto:tlsrpt@example.org,https://tlsrpt.example.net/v1/report\"\n"
            "tlsrpt IN A " + web_addr_ + "\n",
        {"tlsrpt.enabled=true", "tlsrpt.from=reports@localhost", "tlsrpt.org_name=sender.example",
         "tls.outbound_ca_file=" + d_.file("ca.pem")});
  ASSERT_TRUE(make_leaf_cert(d_, "web", "tlsrpt.example.net"));
  web_.start({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/https_server.py", web_addr_,
              "443", d_.file("web.pem"), d_.file("web.key"), d_.path()},
             d_.file("https.log"));
  ASSERT_TRUE(wait_for_port(web_addr_ + ":443"));
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the recorder writes off the event loop
  auto r = run({"tlsrpt", "report", "--today", "--set", "server.data_dir=" + gw_.data_dir() + "/var", "--set",
                "http.listen=" + gw_.http_address()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << gw_.log();
  EXPECT_NE(r.out.find("example.net  sent"), std::string::npos) << r.out;
  auto reports = wait_for_mail(mx_.data_dir(), "tlsrpt@example.org", 1, std::chrono::seconds(30));
  ASSERT_EQ(reports.size(), 1u) << gw_.log();
  const std::string& report = reports[0];
  EXPECT_NE(report.find("TLS-Report-Domain: example.net"), std::string::npos) << report;
  EXPECT_NE(report.find("TLS-Report-Submitter: sender.example"), std::string::npos) << report;
  EXPECT_NE(report.find("multipart/report; report-type=\"tlsrpt\""), std::string::npos) << report;
  EXPECT_NE(report.find("application/tlsrpt+gzip"), std::string::npos) << report;
  EXPECT_NE(report.find("filename=\"sender.example!example.net!"), std::string::npos) << report;
  d_.write("report.eml", report);
  std::string json = shell("python3 -c \"import email,gzip,json,sys; m=email.message_from_binary_file(open('" +
                           d_.file("report.eml") +
                           "','rb')); p=[x for x in m.walk() if x.get_content_type()=='application/tlsrpt+gzip'][0];"
                           " r=json.loads(gzip.decompress(p.get_payload(decode=True)));"
                           " ps=r['policies']; f=[x for p in ps for x in p.get('failure-details', [])];"
                           " print(r['organization-name'], r['contact-info'], sorted({p['policy']['policy-type'] for p in ps}),"
                           " sorted({p['policy']['policy-domain'] for p in ps}),"
                           " sum(p['summary']['total-successful-session-count'] for p in ps),"
                           " sum(p['summary']['total-failure-session-count'] for p in ps), len(f), f[0]['result-type'],"
                           " f[0]['receiving-mx-hostname'], f[0]['receiving-ip'])\"");
  EXPECT_EQ(json, "sender.example reports@localhost ['tlsa'] ['example.net'] 1 1 1 validation-failure mx1.example.net " +
                      mx_bad_)
      << json;
  // The same report was POSTed to the https rua (RFC 8460 §5.4).
  EXPECT_EQ(shell("cat " + d_.file("posted.type")), "application/tlsrpt+gzip");
  EXPECT_EQ(shell("python3 -c \"import gzip,json; r=json.loads(gzip.decompress(open('" + d_.file("posted.bin") +
                  "','rb').read())); print(r['policies'][0]['policy']['policy-domain'], r['organization-name'])\""),
            "example.net sender.example");
  // The day is claimed: a second run sends nothing.
  auto again = run({"tlsrpt", "report", "--today", "--set", "server.data_dir=" + gw_.data_dir() + "/var", "--set",
                    "http.listen=" + gw_.http_address()});
  EXPECT_NE(again.out.find("already sent"), std::string::npos) << again.out;
}

// RFC 8460 tlsa-invalid: validated TLSA records, none usable; dane-only does not use the host.
TEST_F(DaneTest, UnusableTlsaRecordsAreReportedAsTlsaInvalid) {
  start("1 1 1 " + spki_sha256_, "dane-only", rua_zone() + "tlsrpt IN A " + web_addr_ + "\n", reporting());
  start_report_server();
  send_to("r@example.net");
  ASSERT_TRUE(gw_.wait_for_log("are all unusable")) << gw_.log();
  EXPECT_EQ(report(), "tlsa example.net [1 1 1 " + spki_sha256_ + "] ok=0 failed=1 tlsa-invalid@mx.example.net#1") << gw_.log();
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.net").empty());
}

// RFC 8460 dnssec-invalid: the TLSA record was changed after signing, so its answer is bogus; the host is not used.
TEST_F(DaneTest, BogusTlsaAnswerIsReportedAsDnssecInvalid) {
  after_sign_ = "sed -i 's/" + spki_sha256_ + "/" + std::string(64, 'c') + "/I' example.net.zone.signed && grep -qi " +
                std::string(64, 'c') + " example.net.zone.signed";
  start("3 1 1 " + spki_sha256_, "dane", rua_zone() + "tlsrpt IN A " + web_addr_ + "\n", reporting());
  start_report_server();
  send_to("r@example.net");
  ASSERT_TRUE(gw_.wait_for_log("TLSA lookup of _25._tcp.mx.example.net failed (DNSSEC validation failed)")) << gw_.log();
  EXPECT_EQ(report(), "tlsa example.net [] ok=0 failed=1 dnssec-invalid@mx.example.net#1") << gw_.log();
  EXPECT_TRUE(mailbox(mx_.data_dir(), "r@example.net").empty());
}

// ... and a bogus MX answer (the MX record changed after signing) is reported for the domain, no host named.
TEST_F(DaneTest, BogusMxAnswerIsReportedAsDnssecInvalid) {
  after_sign_ = "sed -E -i 's/(MX[[:space:]]+)10 mx\\.example\\.net\\./\\110 mx9.example.net./' example.net.zone.signed && "
                "grep -q 'mx9.example.net' example.net.zone.signed";
  start("3 1 1 " + spki_sha256_, "dane", rua_zone() + "tlsrpt IN A " + web_addr_ + "\n", reporting());
  start_report_server();
  send_to("r@example.net");
  ASSERT_TRUE(gw_.wait_for_log("DNS lookup of MX for example.net failed")) << gw_.log();
  EXPECT_EQ(report(), "tlsa example.net [] ok=0 failed=1 dnssec-invalid@#1") << gw_.log();
}

// RFC 8460 dane-required: dane-only toward an unsigned domain, whose rua is reported to.
TEST_F(DaneTest, DaneOnlyWithoutValidatedTlsaIsReportedAsDaneRequired) {
  org_extra_ = rua_zone();
  start("3 1 1 " + spki_sha256_, "dane-only", "tlsrpt IN A " + web_addr_ + "\n", reporting());
  start_report_server();
  send_to("r@example.org");
  ASSERT_TRUE(gw_.wait_for_log("TLS policy dane-only (tls.outbound_level): the MX or address records of mx.example.org"))
      << gw_.log();
  EXPECT_EQ(report(), "no-policy-found example.org [] ok=0 failed=1 dane-required@mx.example.org#1") << gw_.log();
}

// RFC 7672 §2.2.2: an MX name that is a secure CNAME has its TLSA records looked up at the expanded name first;
// the record at the original name (which would not match) is not used.
TEST_F(DaneTest, CnameMxUsesTheTlsaRecordsOfTheExpandedName) {
  start("3 1 1 " + spki_sha256_, "dane",
        "@ IN MX 5 alias.example.net.\nalias IN CNAME mx.example.net.\n_25._tcp.alias IN TLSA 3 1 1 " +
            std::string(64, 'b') + "\n");
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(gw_.log().find("host=alias.example.net level=dane note=\"DANE TLSA _25._tcp.mx.example.net"), std::string::npos)
      << gw_.log();
  EXPECT_EQ(gw_.log().find("no TLSA record matched"), std::string::npos) << gw_.log();
  EXPECT_NE(gw_.log().find("alias.example.net[" + mx_net_ + "]:25 (TLSv1.3"), std::string::npos) << gw_.log();
}

// ... and when the expansion has none, the original name's records apply.
TEST_F(DaneTest, CnameMxWithoutTlsaAtTheExpansionUsesTheOriginalName) {
  start("3 1 1 " + std::string(64, 'b'), "dane",
        "@ IN MX 5 alias.example.net.\nalias IN CNAME mx2.example.net.\nmx2 IN A " + mx_net_ +
            "\n_25._tcp.alias IN TLSA 3 1 1 " + spki_sha256_ + "\n");
  send_to("r@example.net");
  auto mail = wait_for_mail(mx_.data_dir(), "r@example.net", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << gw_.log() << mx_.log();
  EXPECT_NE(gw_.log().find("host=alias.example.net level=dane note=\"DANE TLSA _25._tcp.alias.example.net"), std::string::npos)
      << gw_.log();
  EXPECT_EQ(gw_.log().find("no TLSA record matched"), std::string::npos) << gw_.log();
}

}  // namespace
}  // namespace mailmoat::testing
