// The outcome of one TLS handshake (SMTP STARTTLS, either side), in the few
// words the metrics label it with: the protocol version when it completed, a
// short reason from a fixed set when it did not. The set is fixed so that a
// hostile peer cannot make new time series (Prometheus label cardinality).
#pragma once

#include <boost/system/error_code.hpp>

#include <string>

namespace mailmoat::tls {

struct HandshakeOutcome {
  bool ok = false;
  std::string version;  // "TLSv1.3", ... when ok
  // When not ok: timeout, closed, not_tls, protocol_version, no_shared_cipher,
  // certificate, dane, policy, other.
  std::string reason;
};

// Why a handshake ended with `ec`; `timed_out`: our deadline closed the socket.
std::string handshake_failure_reason(const boost::system::error_code& ec, bool timed_out);

}  // namespace mailmoat::tls
