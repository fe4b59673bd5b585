// Outbound TLS policy: mailmoat relaying to a real Postfix that requires a
// client certificate (smtpd_tls_req_ccert), to smtp-sink that offers no
// STARTTLS, and to a next hop whose certificate name does not match. A failed
// required policy defers (never sends in clear), is marked as a TLS failure
// and `queue retry --tls-failures` picks it up; REQUIRETLS is honoured.
#include <gtest/gtest.h>

#include <thread>

#include "harness.h"
#include "tls_certs.h"

namespace mailmoat::testing {
namespace {

const std::string kMessage = "From: a@localhost\r\nTo: r@remote.test\r\nSubject: over tls\r\n\r\nbody\r\n";

std::vector<std::string> relay_with_policy(const std::string& next_hop, const std::vector<std::string>& policy) {
  std::vector<std::string> o{"smtp.listener.0.role=relay", "route.0.domains=[\"localhost\"]", "route.0.transport=maildir",
                             "route.1.domains=[\"*\"]", "route.1.transport=relay",
                             "route.1.next_hop=[127.0.0.1]" + next_hop.substr(next_hop.rfind(':')),
                             "queue.retry_base_seconds=600", "queue.retry_max_seconds=600"};
  o.insert(o.end(), policy.begin(), policy.end());
  return o;
}

std::vector<std::string> verify_policy(const TempDir& d, const std::string& match, bool client_cert) {
  std::vector<std::string> p{"tls.policy.0.domains=[\"remote.test\"]", "tls.policy.0.level=verify",
                             "tls.policy.0.match=[\"" + match + "\"]", "tls.policy.0.ca_file=" + d.file("ca.pem")};
  if (client_cert) {
    p.push_back("tls.policy.0.client_cert=" + d.file("good.pem"));
    p.push_back("tls.policy.0.client_key=" + d.file("good.key"));
  }
  return p;
}

// Postfix as the next hop: TLS with mx.pem, a client certificate from ca.pem required, relaying to the sink.
std::vector<std::string> postfix_requiring_client_cert(const TempDir& d, const SmtpSink& sink) {
  return {"relayhost = [127.0.0.1]:" + std::to_string(sink.port()),
          "smtpd_tls_security_level = encrypt",
          "smtpd_tls_cert_file = " + d.file("mx.pem"),
          "smtpd_tls_key_file = " + d.file("mx.key"),
          "smtpd_tls_CAfile = " + d.file("ca.pem"),
          "smtpd_tls_ask_ccert = yes",
          "smtpd_tls_req_ccert = yes",
          "smtpd_tls_loglevel = 1"};
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

std::string queue_id(const std::string& reply) {
  auto at = reply.find("queued as ");
  return at == std::string::npos ? std::string() : reply.substr(at + 10, reply.find("\r\n") - at - 10);
}

std::string submit(const Gateway& gw, const std::string& message = kMessage) {
  SmtpClient c;
  if (!c.connect(gw.smtp_address())) return {};
  std::string reply = c.send_message("a@localhost", {"r@remote.test"}, message);
  EXPECT_EQ(reply_code(reply), 250) << reply;
  return queue_id(reply);
}

std::string retry_tls_failures(const Gateway& gw) {
  auto r = run({"queue", "retry", "--tls-failures", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                "http.listen=" + gw.http_address()});
  return std::to_string(r.exit_code) + "\n" + r.out + r.err;
}

}  // namespace

TEST(OutboundTls, PartnerClientCertificateIsPresentedToPostfixRequiringIt) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  SmtpSink sink;
  Postfix pf(free_port(), postfix_requiring_client_cert(d, sink));
  ASSERT_TRUE(pf.started()) << pf.maillog();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(pf.address(), verify_policy(d, "mx.test", true)))) << gw.log();
  submit(gw);
  auto got = sink.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(got.size(), 1u) << pf.maillog() << gw.log();
  EXPECT_NE(got[0].find("over tls"), std::string::npos);
  EXPECT_NE(pf.maillog().find("Trusted TLS connection established from"), std::string::npos) << pf.maillog();
  EXPECT_NE(gw.log().find("certificate CN=mx.test verified"), std::string::npos) << gw.log();
}

TEST(OutboundTls, WithoutClientCertificateThePostfixHopIsDeferredAsTlsFailure) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  SmtpSink sink;
  Postfix pf(free_port(), postfix_requiring_client_cert(d, sink));
  ASSERT_TRUE(pf.started()) << pf.maillog();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(pf.address(), verify_policy(d, "mx.test", false)))) << gw.log();
  submit(gw);
  ASSERT_TRUE(gw.wait_for_log("status=deferred")) << gw.log() << pf.maillog();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(OutboundTls, RequiredTlsWithoutStarttlsIsDeferredNeverSentInClear) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  SmtpSink sink;  // smtp-sink offers no STARTTLS
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(sink.address(), {"tls.policy.0.domains=[\"remote.test\"]",
                                                          "tls.policy.0.level=encrypt"}))) << gw.log();
  std::string id = submit(gw);
  ASSERT_TRUE(gw.wait_for_log("does not offer STARTTLS")) << gw.log();
  std::string trace = trace_showing(gw, id, "does not offer STARTTLS");
  EXPECT_NE(trace.find("deferred"), std::string::npos) << trace;
  EXPECT_NE(trace.find("does not offer STARTTLS"), std::string::npos) << trace;
  EXPECT_NE(gw.log().find("451 4.7.5 TLS policy encrypt (tls.policy[0])"), std::string::npos) << gw.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(sink.messages().empty());
  // The admin fixes the next hop; the TLS failure is retried at once, not at the next backoff step.
  std::string out = retry_tls_failures(gw);
  EXPECT_EQ(out.substr(0, 2), "0\n") << out;
  EXPECT_NE(out.find("\"recipients_rescheduled\": 1"), std::string::npos) << out;
  auto attempts = [&gw] {
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = gw.log().find("status=deferred", pos)) != std::string::npos; ++pos) ++n;
    return n;
  };
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (attempts() < 2 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(attempts(), 2u) << "retried at once, deferred again:\n" << gw.log();
  EXPECT_TRUE(sink.messages().empty());
}

TEST(OutboundTls, CertificateNameMismatchIsDeferredWithTheReason) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway next;
  ASSERT_TRUE(next.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << next.log();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(next.smtp_address(), verify_policy(d, "mx.other.test", false)))) << gw.log();
  submit(gw);
  ASSERT_TRUE(gw.wait_for_log("match none of mx.other.test")) << gw.log();
  EXPECT_NE(gw.log().find("status=deferred"), std::string::npos) << gw.log();
}

TEST(OutboundTls, OpportunisticTlsIsUsedWhenOffered) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway next;
  ASSERT_TRUE(next.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key"),
                          "smtp.accepted_domains=[\"localhost\",\"remote.test\"]", "route.0.domains=[\"*\"]"}))
      << next.log();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(next.smtp_address(), {}))) << gw.log();
  submit(gw);
  auto mail = wait_for_mail(next.data_dir(), "r@remote.test", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log() << next.log();
  EXPECT_NE(mail[0].find("with ESMTPS"), std::string::npos) << mail[0];
}

namespace {
int send_requiretls(const Gateway& gw) {
  std::string smtp = gw.smtp_address();
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) +
                    "/tests/integration/scripts/tls_client.py requiretls 127.0.0.1 " + smtp.substr(smtp.rfind(':') + 1);
  return std::system(cmd.c_str());
}
}  // namespace

TEST(OutboundTls, RequireTlsMessageTravelsOverVerifiedTlsToANextHopOfferingIt) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway next;
  ASSERT_TRUE(next.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key"),
                          "smtp.accepted_domains=[\"localhost\",\"remote.test\"]", "route.0.domains=[\"*\"]"}))
      << next.log();
  Gateway gw;
  auto o = relay_with_policy(next.smtp_address(), verify_policy(d, "mx.test", false));
  o.push_back("smtp.listener.0.tls_cert=" + d.file("mx.pem"));
  o.push_back("smtp.listener.0.tls_key=" + d.file("mx.key"));
  ASSERT_TRUE(gw.start(o)) << gw.log();
  ASSERT_EQ(send_requiretls(gw), 0) << gw.log();
  auto mail = wait_for_mail(next.data_dir(), "r@remote.test", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log() << next.log();
  EXPECT_NE(mail[0].find("with ESMTPS"), std::string::npos) << mail[0];
}

TEST(OutboundTls, RequireTlsMessageIsBouncedWhenTheNextHopDoesNotOfferIt) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  SmtpSink sink;
  // Postfix 3.7 speaks TLS but has no REQUIRETLS.
  Postfix pf(free_port(), {"relayhost = [127.0.0.1]:" + std::to_string(sink.port()), "smtpd_tls_security_level = may",
                           "smtpd_tls_cert_file = " + d.file("mx.pem"), "smtpd_tls_key_file = " + d.file("mx.key")});
  ASSERT_TRUE(pf.started()) << pf.maillog();
  Gateway gw;
  auto o = relay_with_policy(pf.address(), verify_policy(d, "mx.test", false));
  o.push_back("smtp.listener.0.tls_cert=" + d.file("mx.pem"));
  o.push_back("smtp.listener.0.tls_key=" + d.file("mx.key"));
  ASSERT_TRUE(gw.start(o)) << gw.log();
  ASSERT_EQ(send_requiretls(gw), 0) << gw.log();
  ASSERT_TRUE(gw.wait_for_log("550 5.7.30 REQUIRETLS is required")) << gw.log();
  EXPECT_NE(gw.log().find("status=failed"), std::string::npos) << gw.log();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_TRUE(sink.messages().empty());
}

}  // namespace mailmoat::testing

namespace mailmoat::testing {

// Level may: a next hop that offers STARTTLS but whose handshake fails (here a
// Postfix that speaks only TLS 1.0, which OpenSSL 3 refuses at its default
// security level) gets the message in clear on a new connection, as Postfix's
// own client does, and the trace says so.
TEST(OutboundTls, OpportunisticHandshakeFailureRetriesInClearAndSaysSo) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  SmtpSink sink;
  Postfix pf(free_port(), {"relayhost = [127.0.0.1]:" + std::to_string(sink.port()), "smtpd_tls_security_level = may",
                           "smtpd_tls_cert_file = " + d.file("mx.pem"), "smtpd_tls_key_file = " + d.file("mx.key"),
                           "smtpd_tls_protocols = <=TLSv1", "smtpd_tls_loglevel = 1"});
  ASSERT_TRUE(pf.started()) << pf.maillog();
  Gateway gw;
  ASSERT_TRUE(gw.start(relay_with_policy(pf.address(), {}))) << gw.log();
  std::string id = submit(gw);
  auto got = sink.wait_for(1, std::chrono::seconds(30));
  ASSERT_EQ(got.size(), 1u) << pf.maillog() << gw.log();
  EXPECT_NE(gw.log().find("smtp.tls_fallback"), std::string::npos) << gw.log();
  std::string trace = trace_showing(gw, id, "retried in clear");
  EXPECT_NE(trace.find("TLS handshake failed"), std::string::npos) << trace;
  EXPECT_NE(trace.find("retried in clear"), std::string::npos) << trace;
  EXPECT_NE(trace.find("delivered"), std::string::npos) << trace;
}

}  // namespace mailmoat::testing
