// The SMTP listeners and their sessions: Asio, one C++20 coroutine per
// connection, driving the pure protocol Session (smtp/protocol/session.h).
// The coroutine only moves bytes: it splits command lines (refusing bare
// CR/LF), feeds content, applies deadlines, runs the filter chain within its
// budget, and replies 250 only after the MessageSink reports the message
// durable. stop() refuses new work with 421 4.3.2 and lets in-flight
// messages finish up to the grace deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/chain.h"
#include "smtp/protocol/content.h"
#include "smtp/protocol/session.h"
#include "smtp/server/connection_limiter.h"
#include "pipeline/message_sink.h"
#include "tls/handshake.h"
#include "tls/server_context.h"
#include "util/cidr.h"
#include "util/error.h"

namespace boost::asio {
class io_context;
}
namespace mailmoat::netio {
class IoPool;
}

namespace mailmoat::smtp {

struct ListenerSettings {
  std::string name;
  std::string address;  // "host:port"
  Role role = Role::inbound;
  LineEndings line_endings = LineEndings::strict;
  tls::ServerTlsConfig tls;  // no certificate: no STARTTLS
};

struct ServerSettings {
  std::string hostname = "localhost";
  std::vector<ListenerSettings> listeners;
  std::vector<std::string> accepted_domains;
  std::shared_ptr<const RecipientList> recipients;  // inbound recipient list, optional
  std::vector<util::Network> relay_networks;
  // Clients refused at connect (554 5.7.1 instead of the greeting; RFC 5321 §3.1).
  std::vector<util::Network> blocked_networks;
  // Envelope senders refused at MAIL FROM (550 5.7.1): addresses, or domains with subdomains; lower case.
  std::vector<std::string> blocked_senders;
  std::size_t max_recipients = 1000;
  std::size_t max_errors = 10;
  std::size_t max_command_line = 512;
  ContentLimits content;
  std::size_t max_hops = 50;
  int timeout_seconds = 300;
  int busy_timeout_seconds = 30;
  int filter_budget_ms = 5000;
  ConnectionLimits connections;
  // Told about every message the server refused or discarded after DATA
  // (reply sent, nothing queued), for the message trace.
  std::function<void(const pipeline::MessageContext&, const pipeline::Verdict&, const Reply&)> on_refused;
  // Told how every STARTTLS handshake ended (for the metrics); called on the session's thread.
  std::function<void(const tls::HandshakeOutcome&)> on_tls_handshake;
};

class SmtpServer {
 public:
  // Without `loops`, listeners and sessions run on `io` (a strand per session).
  // With a pool (netio/io_pool.h), each loop has its own listening socket per
  // address (SO_REUSEPORT) and runs the sessions it accepts; the pool must
  // outlive the server and be stopped before the server is destroyed.
  SmtpServer(boost::asio::io_context& io, ServerSettings settings, pipeline::MessageSink& sink,
             std::shared_ptr<const pipeline::FilterChain> chain, netio::IoPool* loops = nullptr);
  ~SmtpServer();
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  // Binds every listener; returns name -> bound "address:port", or the first failure.
  util::Result<std::vector<std::pair<std::string, std::string>>> listen();
  void start();
  // New settings for sessions that start from now on (SIGHUP): domains, networks,
  // recipient list, limits, and TLS certificates (re-read from their files;
  // sessions already open keep theirs). Listener addresses need a restart.
  // Fails, changing nothing, when a certificate cannot be loaded. The callbacks
  // (on_refused, on_tls_handshake) stay those given at construction when `settings` has none.
  util::Result<void> reload(ServerSettings settings);
  void stop();                   // stop accepting; idle sessions get 421 4.3.2
  void abort_sessions();         // grace period over: close whatever is left
  std::size_t active_sessions() const;

  struct Impl;  // shared with the session coroutines in server.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::smtp
