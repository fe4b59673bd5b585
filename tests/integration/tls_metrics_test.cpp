// TLS handshakes by outcome on /metrics (mailmoat_tls_handshakes_total): real
// STARTTLS sessions against a gateway's listener (swaks, a TLS 1.1-only
// openssl s_client, a client that goes on in clear after STARTTLS, one that
// hangs up) and the gateway's own deliveries to a next hop (opportunistic TLS
// that works, and a verify policy the next hop's certificate does not meet)
// each move their series, before and after a SIGHUP reload.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "harness.h"
#include "tls_certs.h"

namespace mailmoat::testing {
namespace {

// The value of the handshake series with these labels; 0 when it is not there yet.
double handshakes(const Gateway& gw, const std::string& side, const std::string& outcome, const std::string& detail) {
  std::istringstream body(http_request(gw.http_address(), "GET", "/metrics").body);
  const std::string want_detail = outcome == "ok" ? "version=\"" + detail + "\"" : "reason=\"" + detail + "\"";
  for (std::string line; std::getline(body, line);) {
    if (line.rfind("mailmoat_tls_handshakes_total{", 0) != 0) continue;
    if (line.find("side=\"" + side + "\"") == std::string::npos ||
        line.find("outcome=\"" + outcome + "\"") == std::string::npos || line.find(want_detail) == std::string::npos)
      continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return 0;
}

// Polls /metrics until the series reaches `at_least` (the session ends after the client has left).
double wait_handshakes(const Gateway& gw, const std::string& side, const std::string& outcome, const std::string& detail,
                       double at_least) {
  double v = 0;
  for (int i = 0; i < 300 && (v = handshakes(gw, side, outcome, detail)) < at_least; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return v;
}

std::string queue_id(const std::string& reply) {
  auto at = reply.find("queued as ");
  return at == std::string::npos ? std::string() : reply.substr(at + 10, reply.find("\r\n") - at - 10);
}

}  // namespace

TEST(TlsMetrics, InboundStarttlsHandshakesAreCountedByOutcome) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  const std::string smtp = gw.smtp_address();
  EXPECT_EQ(handshakes(gw, "inbound", "ok", "TLSv1.3"), 0);

  // A whole message over TLS 1.3.
  ASSERT_EQ(std::system(("swaks --server " + smtp + " --tls --to u@localhost --from a@sender.test >" + d.file("swaks.log") +
                         " 2>&1").c_str()),
            0);
  EXPECT_EQ(wait_handshakes(gw, "inbound", "ok", "TLSv1.3", 1), 1);
  // SIGHUP replaces the server's settings; the sessions after it are still counted.
  kill(gw.pid(), SIGHUP);
  ASSERT_TRUE(gw.wait_for_log("config.reloaded")) << gw.log();

  // A client that offers only TLS 1.1: the listener's minimum is TLS 1.2.
  (void)!std::system(("openssl s_client -starttls smtp -connect " + smtp +
                      " -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null >" + d.file("s_client.log") + " 2>&1")
                         .c_str());
  EXPECT_EQ(wait_handshakes(gw, "inbound", "failed", "protocol_version", 1), 1) << gw.log();

  // STARTTLS accepted, then clear text instead of a ClientHello.
  {
    SmtpClient c;
    ASSERT_TRUE(c.connect(smtp));
    ASSERT_EQ(reply_code(c.reply()), 220);
    ASSERT_EQ(reply_code(c.command("EHLO client.example.com")), 250);
    ASSERT_EQ(reply_code(c.command("STARTTLS")), 220);
    c.send("MAIL FROM:<a@sender.test>\r\nRCPT TO:<u@localhost>\r\n");
    EXPECT_TRUE(c.closed(30000));
  }
  EXPECT_EQ(wait_handshakes(gw, "inbound", "failed", "not_tls", 1), 1) << gw.log();

  // STARTTLS accepted, then the client hangs up.
  {
    SmtpClient c;
    ASSERT_TRUE(c.connect(smtp));
    ASSERT_EQ(reply_code(c.reply()), 220);
    ASSERT_EQ(reply_code(c.command("EHLO client.example.com")), 250);
    ASSERT_EQ(reply_code(c.command("STARTTLS")), 220);
  }
  EXPECT_EQ(wait_handshakes(gw, "inbound", "failed", "closed", 1), 1) << gw.log();

  // Nothing was counted twice, and the good session is still the only success.
  EXPECT_EQ(handshakes(gw, "inbound", "ok", "TLSv1.3"), 1);
  EXPECT_EQ(handshakes(gw, "outbound", "ok", "TLSv1.3"), 0);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  EXPECT_EQ(mail.size(), 1u);
}

TEST(TlsMetrics, OutboundHandshakesAreCountedByOutcome) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  Gateway next;
  ASSERT_TRUE(next.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key"),
                          "smtp.accepted_domains=[\"localhost\",\"remote.example.com\",\"strict.example.com\"]",
                          "route.0.domains=[\"*\"]"}))
      << next.log();
  const std::string hop = next.smtp_address();
  Gateway gw;
  // remote.example.com: opportunistic TLS. strict.example.com: verify with a name the certificate (mx.test) lacks.
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "route.0.domains=[\"localhost\"]", "route.0.transport=maildir",
                        "route.1.domains=[\"*\"]", "route.1.transport=relay",
                        "route.1.next_hop=[127.0.0.1]" + hop.substr(hop.rfind(':')), "queue.retry_base_seconds=600",
                        "queue.retry_max_seconds=600", "tls.policy.0.domains=[\"strict.example.com\"]",
                        "tls.policy.0.level=verify", "tls.policy.0.match=[\"mx.other.example.com\"]",
                        "tls.policy.0.ca_file=" + d.file("ca.pem")}))
      << gw.log();

  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string ok = c.send_message("a@localhost", {"r@remote.example.com"}, "Subject: over tls\r\n\r\nbody\r\n");
  ASSERT_EQ(reply_code(ok), 250) << ok;
  ASSERT_EQ(wait_for_mail(next.data_dir(), "r@remote.example.com", 1).size(), 1u) << gw.log() << next.log();
  EXPECT_EQ(wait_handshakes(gw, "outbound", "ok", "TLSv1.3", 1), 1) << gw.log();
  // The next hop counted the same handshake on its side.
  EXPECT_EQ(wait_handshakes(next, "inbound", "ok", "TLSv1.3", 1), 1) << next.log();

  SmtpClient s;
  ASSERT_TRUE(s.connect(gw.smtp_address()));
  std::string held = s.send_message("a@localhost", {"r@strict.example.com"}, "Subject: strict\r\n\r\nbody\r\n");
  ASSERT_EQ(reply_code(held), 250) << held;
  ASSERT_TRUE(gw.wait_for_log("status=deferred", std::chrono::seconds(60))) << gw.log();
  EXPECT_EQ(wait_handshakes(gw, "outbound", "failed", "policy", 1), 1) << gw.log();
  EXPECT_EQ(handshakes(gw, "outbound", "ok", "TLSv1.3"), 1);
  EXPECT_FALSE(queue_id(held).empty());
}

}  // namespace mailmoat::testing
