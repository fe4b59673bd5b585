// Delivery over SMTP (RFC 5321) and LMTP (RFC 2033): to a smart host
// ("relay"), to the recipient domain's MX hosts ("smtp": RFC 5321 §5.1
// order, randomised among equal preferences, A/AAAA fallback, RFC 7505 null
// MX), or to an LMTP server over TCP or a unix socket. Uses PIPELINING,
// SIZE, 8BITMIME, SMTPUTF8, DSN and CHUNKING when the server offers them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "dns/resolver.h"
#include "queue/transport.h"
#include "tls/client_context.h"
#include "tls/client_policy.h"
#include "tls/handshake.h"
#include "tls/mta_sts.h"
#include "tls/tlsrpt_report.h"
#include "util/error.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::smtp {

struct SmtpTransportOptions {
  enum class Mode { relay, mx, lmtp };
  Mode mode = Mode::relay;
  std::string helo_name = "localhost";
  bool use_bdat = true;
  std::chrono::seconds timeout{300};
  // Outbound TLS per recipient domain (smtp and relay modes; LMTP stays in clear).
  std::shared_ptr<const tls::ClientPolicyTable> tls_policies = std::make_shared<const tls::ClientPolicyTable>();
  // MX mode: recipient domains' MTA-STS policies (RFC 8461) where no [[tls.policy]] names the domain.
  std::shared_ptr<tls::MtaSts> mta_sts;
  // TLS-RPT (RFC 8460): told the outcome of every new session that tried TLS; called on the event loop, must not block.
  std::function<void(tls::TlsRptResult)> tls_report;
  // Told how every STARTTLS handshake ended (for the metrics); a session that completed the
  // handshake but failed the TLS policy counts as failed with reason "policy". On the event loop.
  std::function<void(const tls::HandshakeOutcome&)> on_tls_handshake;
};

struct ConnectionPool;

// Connections are reused: after a clean transaction the session stays open
// (up to 5 s idle, 100 messages) for the next message to the same next hop.
class SmtpTransport : public queue::Transport {
 public:
  // `resolver` is needed for Mode::mx and may be null otherwise.
  SmtpTransport(boost::asio::io_context& io, SmtpTransportOptions options, dns::Resolver* resolver);
  void deliver(queue::DeliveryJob job, Done done) override;
  std::string destination(const queue::DeliveryJob& job) const override;

 private:
  boost::asio::io_context& io_;
  SmtpTransportOptions options_;
  dns::Resolver* resolver_;
  std::shared_ptr<ConnectionPool> pool_;
  std::shared_ptr<tls::ClientContextCache> tls_contexts_ = std::make_shared<tls::ClientContextCache>();
};

// "[host]:port", "host:port" or "[host]" (port 25); "unix:/path" for LMTP.
struct NextHop {
  std::string host;
  std::uint16_t port = 25;
  bool unix_socket = false;
  bool literal = false;  // [host]: no MX lookup
};
util::Result<NextHop> parse_next_hop(std::string_view text, std::uint16_t default_port);

}  // namespace mailmoat::smtp
