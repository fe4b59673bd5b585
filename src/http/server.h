// The HTTP/1.1 listener (Boost.Beast), plain or HTTPS: one coroutine per
// connection, bounded header and body sizes, idle, read and handshake
// deadlines, keep-alive. Requests are
// answered by a Router; stop() closes the listener and lets in-flight
// requests finish while idle connections are closed.
#pragma once

#include <memory>
#include <string>

#include "http/router.h"
#include "util/error.h"

namespace boost::asio {
class io_context;
}

namespace mailmoat::http {

class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves HTTPS (TLS 1.2/1.3, forward-secret AEAD ciphers) with this PEM
  // certificate chain and key; call before start().
  util::Result<void> use_tls(const std::string& cert_file, const std::string& key_file);
  // Binds "address:port" (port 0: any free port). Returns the bound "address:port".
  util::Result<std::string> listen(const std::string& host_port);
  void start();
  void stop();
  std::size_t active_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::http
