// Partner connectors (Domain Security) with a real Postfix as the partner's
// MTA relaying to mailmoat: a client certificate from the partner's CA with an
// accepted name is marked domain-secured; a wrong name or no TLS is refused
// with the connector's code for covered sender domains only.
#include <gtest/gtest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"
#include "tls_certs.h"

namespace mailmoat::testing {
namespace {

const std::string kMessage =
    "From: a@partner.test\r\nTo: u@localhost\r\nSubject: hello\r\n"
    "X-Mailmoat-Domain-Secured: forged\r\n\r\nbody\r\n";

std::vector<std::string> partner_gateway(const TempDir& d, const std::string& refusal = "450 4.7.320") {
  return {"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key"),
          "tls.partner.0.name=partner", "tls.partner.0.sender_domains=[\"partner.test\"]",
          "tls.partner.0.accepted_names=[\"mta.partner.test\"]", "tls.partner.0.ca_file=" + d.file("ca.pem"),
          "tls.partner.0.refusal=\"" + refusal + "\""};
}

// The partner's Postfix relaying everything to the gateway, with a client certificate when `cert` is set.
std::vector<std::string> partner_postfix(const Gateway& gw, const TempDir& d, const std::string& cert) {
  std::string smtp = gw.smtp_address();
  std::vector<std::string> cf{"relayhost = [127.0.0.1]:" + smtp.substr(smtp.rfind(':') + 1)};
  if (cert.empty()) {
    cf.push_back("smtp_tls_security_level = none");
  } else {
    cf.push_back("smtp_tls_security_level = encrypt");
    cf.push_back("smtp_tls_cert_file = " + d.file(cert + ".pem"));
    cf.push_back("smtp_tls_key_file = " + d.file(cert + ".key"));
  }
  return cf;
}

// `mailmoat trace show ID` once it contains `text` (the recorder writes in batches).
std::string trace_showing(const Gateway& gw, const std::string& id, const std::string& text) {
  std::string out;
  for (int i = 0; i < 100; ++i) {
    auto r = run({"trace", "show", id, "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                  "http.listen=" + gw.http_address()});
    out = r.out + r.err;
    if (out.find(text) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return out;
}


void send_through(const Postfix& pf, const std::string& from, const std::string& message = kMessage) {
  SmtpClient c;
  ASSERT_TRUE(c.connect(pf.address()));
  ASSERT_EQ(reply_code(c.send_message(from, {"u@localhost"}, message)), 250);
}

TEST(PartnerConnector, PostfixWithThePartnerCertificateIsDomainSecured) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(partner_gateway(d))) << gw.log();
  Postfix pf(free_port(), partner_postfix(gw, d, "good"));
  ASSERT_TRUE(pf.started()) << pf.maillog();
  send_through(pf, "a@partner.test");
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << pf.maillog() << gw.log();
  auto secured = mail[0].find("X-Mailmoat-Domain-Secured: partner\n");
  EXPECT_NE(secured, std::string::npos) << mail[0];
  EXPECT_EQ(mail[0].find("X-Mailmoat-Domain-Secured", secured + 1), std::string::npos) << "exactly one copy:\n" << mail[0];
  EXPECT_EQ(mail[0].find("forged"), std::string::npos) << "the incoming copy must be removed:\n" << mail[0];
  EXPECT_NE(mail[0].find("(client certificate CN=mta.partner.test verified)"), std::string::npos) << mail[0];
  EXPECT_NE(gw.log().find("peer=\"CN=mta.partner.test\" verified=yes"), std::string::npos) << gw.log();
}

TEST(PartnerConnector, WrongCertificateNameIsRefusedWithTheConfiguredCode) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(partner_gateway(d))) << gw.log();
  Postfix pf(free_port(), partner_postfix(gw, d, "wrong"));
  ASSERT_TRUE(pf.started()) << pf.maillog();
  send_through(pf, "a@partner.test");
  ASSERT_TRUE(gw.wait_for_log("certificate_name failed")) << gw.log();
  EXPECT_NE(gw.log().find("filter=partner_connector"), std::string::npos) << gw.log();
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pf.maillog().find("450 4.7.320") == std::string::npos && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_NE(pf.maillog().find("450 4.7.320"), std::string::npos) << pf.maillog();
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
}

TEST(PartnerConnector, WithoutTlsCoveredDomainIsRefusedOthersAccepted) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(partner_gateway(d))) << gw.log();
  Postfix pf(free_port(), partner_postfix(gw, d, ""));
  ASSERT_TRUE(pf.started()) << pf.maillog();
  send_through(pf, "a@partner.test");
  send_through(pf, "b@other.test",
               "From: b@other.test\r\nTo: u@localhost\r\nSubject: x\r\nX-Mailmoat-Domain-Secured: forged\r\n\r\nbody\r\n");
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 1u) << pf.maillog() << gw.log();
  EXPECT_NE(mail[0].find("From: b@other.test"), std::string::npos);
  EXPECT_EQ(mail[0].find("X-Mailmoat-Domain-Secured"), std::string::npos) << mail[0];
  ASSERT_TRUE(gw.wait_for_log("require_tls failed")) << gw.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(mailbox(gw.data_dir(), "u@localhost").size(), 1u);
}

TEST(PartnerConnector, RefusalAndTheFailedRequirementAreInTheTrace) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(partner_gateway(d))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string reply = c.send_message("a@partner.test", {"u@localhost"}, kMessage);
  ASSERT_EQ(reply_code(reply), 450) << reply;
  EXPECT_NE(reply.find("4.7.320"), std::string::npos) << reply;
  ASSERT_TRUE(gw.wait_for_log("smtp.refused")) << gw.log();
  // The refused message's trace id is in the log line.
  std::string log = gw.log();
  auto at = log.find("id=", log.find("smtp.refused"));
  std::string id = log.substr(at + 3, log.find(' ', at) - at - 3);
  std::string trace = trace_showing(gw, id, "require_tls failed");
  EXPECT_NE(trace.find("partner partner: require_tls failed"), std::string::npos) << trace;
}

TEST(PartnerConnector, PermanentRefusalCodeIsUsedWhenConfigured) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start(partner_gateway(d, "550 5.7.1"))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string reply = c.send_message("a@partner.test", {"u@localhost"}, kMessage);
  EXPECT_EQ(reply_code(reply), 550) << reply;
  EXPECT_NE(reply.find("5.7.1"), std::string::npos) << reply;
  EXPECT_NE(reply.find("partner connector partner"), std::string::npos) << reply;
}

}  // namespace
}  // namespace mailmoat::testing
