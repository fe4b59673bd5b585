#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <mutex>
#include <set>

#include "log/log.h"
#include "util/host_port.h"

namespace mailmoat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kBodyLimit = 1024 * 1024;
constexpr auto kReadTimeout = 30s;
}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  asio::io_context& io;
  const Router& router;
  std::optional<tcp::acceptor> acceptor;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::set<std::shared_ptr<beast::tcp_stream>> streams;

  Impl(asio::io_context& i, const Router& r) : io(i), router(r) {}

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(io), asio::as_tuple(asio::use_awaitable));
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
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    {
      std::lock_guard lock(mu);
      streams.insert(stream);
    }
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(kBodyLimit);
      stream->expires_after(kReadTimeout);
      auto [ec, n] = co_await bhttp::async_read(*stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
          bhttp::response<bhttp::string_body> too_big{bhttp::status::payload_too_large, 11};
          too_big.set(bhttp::field::content_type, "application/json");
          too_big.body() = R"({"error":"request too large"})";
          too_big.keep_alive(false);
          too_big.prepare_payload();
          co_await bhttp::async_write(*stream, too_big, asio::as_tuple(asio::use_awaitable));
        }
        break;
      }
      auto req = parser.release();
      Request r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      auto q = r.target.find('?');
      r.path = r.target.substr(0, q);
      if (q != std::string::npos) r.query = r.target.substr(q + 1);
      for (const auto& h : req) r.headers.emplace_back(std::string(h.name_string()), std::string(h.value()));
      r.body = std::move(req.body());
      r.client_address = remote.address().to_string();
      Response out = router.route(r);
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), req.version()};
      res.set(bhttp::field::server, "mailmoat");
      res.set(bhttp::field::content_type, out.content_type);
      res.set("X-Content-Type-Options", "nosniff");
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      bool keep = req.keep_alive() && !stopping;
      res.keep_alive(keep);
      res.prepare_payload();
      auto [wec, wn] = co_await bhttp::async_write(*stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !keep) break;
    }
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::lock_guard lock(mu);
    streams.erase(stream);
  }
};

Server::Server(asio::io_context& io, const Router& router) : impl_(std::make_shared<Impl>(io, router)) {}
Server::~Server() = default;

util::Result<std::string> Server::listen(const std::string& host_port) {
  auto hp = util::parse_host_port(host_port);
  if (!hp) return util::fail("cannot listen on " + host_port + ": " + hp.error().message);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(hp->host, ec);
  if (ec) return util::fail("cannot listen on " + host_port + ": " + ec.message());
  tcp::endpoint ep(addr, hp->port);
  tcp::acceptor acc(impl_->io);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return util::fail("cannot listen on " + host_port + ": " + ec.message());
  auto local = acc.local_endpoint();
  impl_->acceptor.emplace(std::move(acc));
  return util::format_host_port(local.address().to_string(), local.port());
}

void Server::start() {
  asio::co_spawn(impl_->acceptor->get_executor(), impl_->accept_loop(), asio::detached);
}

void Server::stop() {
  impl_->stopping = true;
  asio::post(impl_->acceptor->get_executor(), [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor->close(ignored);
  });
  // Idle keep-alive connections are closed; a request being answered finishes first
  // because the write is not cancelled by closing the read side's deadline.
  std::lock_guard lock(impl_->mu);
  for (const auto& stream : impl_->streams)
    asio::post(stream->get_executor(), [stream] { stream->expires_after(std::chrono::milliseconds(1)); });
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->streams.size();
}

}  // namespace mailmoat::http
