#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

#include "http/wire.h"
#include "log/log.h"
#include "netio/io_pool.h"
#include "netio/listen.h"
#include "util/host_port.h"

namespace mailmoat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t kHeaderLimit = std::size_t{16} * 1024;
constexpr std::size_t kBodyLimit = std::size_t{1024} * 1024;
constexpr auto kReadTimeout = 30s;
constexpr auto kHandshakeTimeout = 10s;

// One connection: plain, or TLS over the same TCP stream. The lowest layer is
// what deadlines and shutdown act on.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};
}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  const Router& router;
  std::vector<tcp::acceptor> acceptors;  // one per loop, all on the same port
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::set<std::shared_ptr<Connection>> streams;
  std::optional<asio::ssl::context> tls;

  explicit Impl(const Router& r) : router(r) {}

  // Accepts for the loop the acceptor belongs to.
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) break;
        log::warn("http.accept_failed", {{"error", ec.message()}});
        continue;
      }
      auto exec = socket.get_executor();
      asio::co_spawn(exec, session(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    auto self = shared_from_this();
    boost::system::error_code ignored;
    auto remote = socket.remote_endpoint(ignored);
    auto conn = std::make_shared<Connection>();
    if (tls) {
      conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), *tls);
    } else {
      conn->plain = std::make_unique<beast::tcp_stream>(std::move(socket));
    }
    {
      std::lock_guard lock(mu);
      streams.insert(conn);
    }
    if (conn->tls) {
      conn->lowest().expires_after(kHandshakeTimeout);
      auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
      if (hec) {
        log::info("http.tls_handshake_failed", {{"client", remote.address().to_string()}, {"error", hec.message()}});
      } else {
        co_await serve(*conn->tls, conn->lowest(), remote);
        conn->lowest().expires_after(kHandshakeTimeout);
        co_await conn->tls->async_shutdown(asio::as_tuple(asio::use_awaitable));
      }
    } else {
      co_await serve(*conn->plain, *conn->plain, remote);
    }
    conn->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::lock_guard lock(mu);
    streams.erase(conn);
  }

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, beast::tcp_stream& lowest, tcp::endpoint remote) {
    beast::flat_buffer buffer;
    const std::string client_address = remote.address().to_string();  // once per connection, not per request
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      lowest.expires_after(kReadTimeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
          bhttp::response<bhttp::string_body> too_big{bhttp::status::payload_too_large, 11};
          too_big.set(bhttp::field::content_type, "application/json");
          too_big.body() = R"({"error":"request too large"})";
          too_big.keep_alive(false);
          too_big.prepare_payload();
          co_await bhttp::async_write(stream, too_big, asio::as_tuple(asio::use_awaitable));
        }
        co_return;
      }
      auto req = parser.release();
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      auto q = r.target.find('?');
      r.path = r.target.substr(0, q);
      if (q != std::string::npos) r.query = r.target.substr(q + 1);
      r.headers.reserve(static_cast<std::size_t>(std::distance(req.begin(), req.end())));
      for (const auto& h : req) r.headers.emplace_back(std::string(h.name_string()), std::string(h.value()));
      r.body = std::move(req.body());
      r.client_address = client_address;
      r.secure = tls.has_value();
      Response out = router.route(r);
      const bool keep = req.keep_alive() && !stopping;
      const std::string wire = serialize_response(out, {req.version() == 10 ? 10u : 11u, keep, tls.has_value()});
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(wire), asio::as_tuple(asio::use_awaitable));
      if (wec || !keep) co_return;
    }
  }
};

Server::Server(const Router& router, std::size_t threads)
    : loops_(std::make_unique<netio::IoPool>(std::max<std::size_t>(threads, 1))),
      impl_(std::make_shared<Impl>(router)) {}

// The loops are stopped (a graceful stop() has had its time by now), then the
// sockets and the suspended connections are destroyed while their loops exist.
Server::~Server() {
  loops_->stop();
  loops_->join();
  impl_->acceptors.clear();
  {
    std::lock_guard lock(impl_->mu);
    impl_->streams.clear();
  }
  impl_.reset();
  loops_.reset();
}

util::Result<void> Server::use_tls(const std::string& cert_file, const std::string& key_file) {
  asio::ssl::context ctx(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                      asio::ssl::context::no_compression | asio::ssl::context::single_dh_use,
                  ec);
  // TLS 1.2 with forward secrecy and AEAD only; TLS 1.3 suites are all of that.
  SSL_CTX_set_cipher_list(ctx.native_handle(), "ECDHE+AESGCM:ECDHE+CHACHA20");
  if (!ec) ctx.use_certificate_chain_file(cert_file, ec);
  if (ec) return util::fail("http: cannot load certificate " + cert_file + ": " + ec.message());
  ctx.use_private_key_file(key_file, asio::ssl::context::pem, ec);
  if (ec) return util::fail("http: cannot load key " + key_file + ": " + ec.message());
  impl_->tls.emplace(std::move(ctx));
  return {};
}

util::Result<std::string> Server::listen(const std::string& host_port) {
  auto hp = util::parse_host_port(host_port);
  if (!hp) return util::fail("cannot listen on " + host_port + ": " + hp.error().message);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->host, ec);
  if (ec) return util::fail("cannot listen on " + host_port + ": " + ec.message());
  tcp::endpoint ep(addr, hp->port);
  ec = netio::open_acceptors(loops_->executor(0), loops_.get(), ep, true, impl_->acceptors);
  if (ec) return util::fail("cannot listen on " + host_port + ": " + ec.message());
  auto local = impl_->acceptors.front().local_endpoint();
  return util::format_host_port(local.address().to_string(), local.port());
}

void Server::start() {
  for (auto& a : impl_->acceptors) asio::co_spawn(a.get_executor(), impl_->accept_loop(a), asio::detached);
  loops_->start();
}

void Server::stop() {
  impl_->stopping = true;
  for (auto& a : impl_->acceptors)
    asio::post(a.get_executor(), [impl = impl_, ap = &a] {
      boost::system::error_code ignored;
      ap->close(ignored);
    });
  // Idle keep-alive connections are closed; a request being answered finishes first
  // because the write is not cancelled by closing the read side's deadline.
  std::lock_guard lock(impl_->mu);
  for (const auto& conn : impl_->streams)
    asio::post(conn->lowest().get_executor(), [conn] { conn->lowest().expires_after(std::chrono::milliseconds(1)); });
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->streams.size();
}

}  // namespace mailmoat::http
