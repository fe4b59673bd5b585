// The HTTP/1.1 listener (Boost.Beast), plain or HTTPS: one coroutine per
// connection, bounded header and body sizes, idle, read and handshake
// deadlines, keep-alive. Requests are answered by a Router; stop() closes the
// listener and lets in-flight requests finish while idle connections are closed.
// The listener runs on its own threads, each with its own event loop (one
// io_context per thread, the way nginx runs one event loop per worker): a
// connection lives on one thread from accept to close, so answering a request
// takes no lock and no cross-thread wake-up. Each loop has its own listening
// socket on the port (netio/listen.h) and accepts the connections it serves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "util/error.h"

namespace mailmoat::netio {
class IoPool;
}

namespace mailmoat::http {

class Server {
 public:
  // `threads` event loops (at least one) answer the requests; they start with start().
  Server(const Router& router, std::size_t threads);
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
  std::unique_ptr<netio::IoPool> loops_;  // declared first: destroyed after impl_ is released
  std::shared_ptr<Impl> impl_;
};

}  // namespace mailmoat::http
