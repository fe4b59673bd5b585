// STARTTLS on an inbound listener with a certificate from a throw-away CA:
// the handshake, TLS facts in the Received field, no command injection,
// testssl.sh's verdict, SNI, reload on SIGHUP, and hostile clients.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"
#include "tls_certs.h"

namespace mailmoat::testing {


TEST(Tls, StarttlsDiscardsPipelinedInjectionAndResetsTheSession) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  std::string smtp = gw.smtp_address();
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) +
                    "/tests/integration/scripts/starttls_injection.py 127.0.0.1 " + smtp.substr(smtp.rfind(':') + 1) +
                    " " + d.file("ca.pem");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(Tls, MessageOverTlsRecordsVersionAndCipher) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  std::string smtp = gw.smtp_address();
  auto r = std::system(("swaks --server " + smtp + " --tls --to u@localhost --from a@sender.test >" + d.file("swaks.log") +
                        " 2>&1").c_str());
  ASSERT_EQ(r, 0);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("with ESMTPS id"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("(using TLSv1.3 with cipher TLS_"), std::string::npos) << mail[0];
}

TEST(Tls, SwaksExtensionsInterop) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir d;
  std::string smtp = gw.smtp_address();
  // Pipelining (RFC 2920) and an 8-bit body.
  std::string cmd = "swaks --server " + smtp + " --pipeline --to u@localhost --from a@sender.test --body 'caf\xc3\xa9' >" +
                    d.file("swaks.log") + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("caf\xc3\xa9"), std::string::npos);
}

namespace {

std::vector<std::string> tls_listener(const TempDir& d) {
  return {"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")};
}

std::string port_of(const std::string& host_port) { return host_port.substr(host_port.rfind(':') + 1); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The subject of the certificate the listener presents for `server_name` ("" : no SNI).
std::string presented_subject(const std::string& smtp, const std::string& server_name, const TempDir& d) {
  std::string cmd = "openssl s_client -starttls smtp -connect " + smtp +
                    (server_name.empty() ? std::string(" -noservername") : " -servername " + server_name) +
                    " </dev/null 2>/dev/null | openssl x509 -noout -subject >" + d.file("subject") + " 2>&1";
  (void)!std::system(cmd.c_str());
  return read_file(d.file("subject"));
}

// A whole message from another client while a hostile one is connected.
void other_session_delivers(const Gateway& gw) {
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  EXPECT_EQ(reply_code(c.send_message("a@sender.test", {"u@localhost"}, "Subject: meanwhile\r\n\r\nx\r\n")), 250);
}

}  // namespace

// testssl.sh against the STARTTLS listener; its summary is kept in the test output.
TEST(Tls, TestsslFindsNoWeakProtocolCipherOrVulnerability) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(tls_listener(d))) << gw.log();
  std::string cmd = "testssl --quiet --color 0 --warnings off --starttls smtp -p -s -f -U --ip one --jsonfile " +
                    d.file("testssl.json") + " " + gw.smtp_address() + " >" + d.file("testssl.txt") + " 2>&1";
  (void)!std::system(cmd.c_str());
  std::cout << read_file(d.file("testssl.txt"));
  auto findings = nlohmann::json::parse(read_file(d.file("testssl.json")), nullptr, false);
  ASSERT_TRUE(findings.is_array()) << "testssl.sh wrote no JSON";
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& f : findings) by_id[f.value("id", "")] = f;
  for (const char* id : {"SSLv2", "SSLv3", "TLS1", "TLS1_1", "cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT",
                         "cipherlist_LOW", "cipherlist_3DES_IDEA"}) {
    ASSERT_TRUE(by_id.count(id)) << id;
    EXPECT_NE(by_id[id].value("finding", "").find("not offered"), std::string::npos) << id << ": " << by_id[id].dump();
  }
  EXPECT_EQ(by_id["TLS1_3"].value("finding", "").find("offered"), 0u) << by_id["TLS1_3"].dump();
  std::size_t vulnerability_checks = 0;
  for (const auto& f : findings) {
    const std::string severity = f.value("severity", "");
    const std::string id = f.value("id", "");
    if (severity == "LOW" || severity == "MEDIUM" || severity == "HIGH" || severity == "CRITICAL")
      ADD_FAILURE() << "testssl.sh reports " << id << " (" << severity << "): " << f.value("finding", "");
    if (f.contains("cve") || id == "secure_client_renego" || id == "BREACH") ++vulnerability_checks;
  }
  EXPECT_GE(vulnerability_checks, 10u) << "the vulnerability checks did not run";
  EXPECT_NE(by_id["secure_client_renego"].value("finding", "").find("not vulnerable"), std::string::npos);
}

TEST(Tls, SniSelectsTheCertificateForTheRequestedName) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  auto overrides = tls_listener(d);
  overrides.push_back("tls.certificate.0.listener=inbound");
  overrides.push_back("tls.certificate.0.names=[\"*.partner.test\"]");
  overrides.push_back("tls.certificate.0.cert=" + d.file("good.pem"));
  overrides.push_back("tls.certificate.0.key=" + d.file("good.key"));
  ASSERT_TRUE(gw.start(overrides)) << gw.log();
  EXPECT_NE(presented_subject(gw.smtp_address(), "mta.partner.test", d).find("CN = mta.partner.test"), std::string::npos);
  EXPECT_NE(presented_subject(gw.smtp_address(), "other.test", d).find("CN = mx.test"), std::string::npos);
  EXPECT_NE(presented_subject(gw.smtp_address(), "", d).find("CN = mx.test"), std::string::npos);
}

TEST(Tls, SighupReloadsTheCertificateWithoutDroppingOpenSessions) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  ASSERT_EQ(std::system(("cp " + d.file("mx.pem") + " " + d.file("live.pem") + " && cp " + d.file("mx.key") + " " +
                         d.file("live.key")).c_str()), 0);
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("live.pem"), "smtp.listener.0.tls_key=" + d.file("live.key")}))
      << gw.log();
  Process held({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/tls_client.py", "hold",
                "127.0.0.1", port_of(gw.smtp_address()), d.file("go"), d.file("held.out")});
  ASSERT_TRUE(gw.wait_for_log("smtp.tls client=")) << gw.log();
  ASSERT_EQ(std::system(("cp " + d.file("good.pem") + " " + d.file("live.pem") + " && cp " + d.file("good.key") + " " +
                         d.file("live.key")).c_str()), 0);
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(gw.wait_for_log("config.reloaded")) << gw.log();
  EXPECT_NE(presented_subject(gw.smtp_address(), "", d).find("CN = mta.partner.test"), std::string::npos);
  d.write("go", "");
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  EXPECT_NE(mail[0].find("held across reload"), std::string::npos);
  EXPECT_EQ(read_file(d.file("held.out")).substr(0, 3), "250");
}

TEST(Tls, BrokenCertificateOnSighupKeepsTheOldOne) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  ASSERT_EQ(std::system(("cp " + d.file("mx.pem") + " " + d.file("live.pem")).c_str()), 0);
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("live.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  d.write("live.pem", "not a certificate\n");
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(gw.wait_for_log("config.reload_failed")) << gw.log();
  EXPECT_NE(presented_subject(gw.smtp_address(), "", d).find("CN = mx.test"), std::string::npos);
}

TEST(Tls, GarbageInsteadOfClientHelloEndsOnlyThatSession) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(tls_listener(d))) << gw.log();
  SmtpClient bad;
  ASSERT_TRUE(bad.connect(gw.smtp_address()));
  bad.reply();
  bad.command("EHLO bad.test");
  ASSERT_EQ(reply_code(bad.command("STARTTLS")), 220);
  bad.send(std::string("GET / HTTP/1.0\r\n\r\n") + std::string(4096, 'x'));
  EXPECT_TRUE(bad.closed(10000));
  ASSERT_TRUE(gw.wait_for_log("smtp.tls_failed")) << gw.log();
  other_session_delivers(gw);
}

TEST(Tls, StalledHandshakeIsCutAtTheTimeoutWhileOthersContinue) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  auto overrides = tls_listener(d);
  overrides.push_back("smtp.timeout_seconds=2");
  ASSERT_TRUE(gw.start(overrides)) << gw.log();
  SmtpClient stalled;
  ASSERT_TRUE(stalled.connect(gw.smtp_address()));
  stalled.reply();
  stalled.command("EHLO stall.test");
  ASSERT_EQ(reply_code(stalled.command("STARTTLS")), 220);
  other_session_delivers(gw);
  EXPECT_TRUE(stalled.closed(10000));
  EXPECT_TRUE(gw.wait_for_log("error=\"handshake timed out\"")) << gw.log();
}

TEST(Tls, OversizedClientCertificateChainIsRefused) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  // 300 copies of the CA after the leaf (about 250 KiB): far past the 64 KiB the listener accepts.
  std::string chain = read_file(d.file("good.pem"));
  const std::string ca = read_file(d.file("ca.pem"));
  for (int i = 0; i < 300; ++i) chain += ca;
  d.write("big.pem", chain);
  Gateway gw;
  auto overrides = tls_listener(d);
  overrides.push_back("tls.partner.0.name=partner");
  overrides.push_back("tls.partner.0.sender_domains=[\"partner.test\"]");
  overrides.push_back("tls.partner.0.ca_file=" + d.file("ca.pem"));
  ASSERT_TRUE(gw.start(overrides)) << gw.log();
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/tls_client.py big_chain " +
                    "127.0.0.1 " + port_of(gw.smtp_address()) + " " + d.file("big.pem") + " " + d.file("good.key");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(gw.wait_for_log("smtp.tls_failed")) << gw.log();
  EXPECT_NE(gw.log().find("excessive message size"), std::string::npos) << gw.log();
  other_session_delivers(gw);
}

}  // namespace mailmoat::testing
