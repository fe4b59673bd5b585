#include "milter/server/server.h"

#include <boost/asio.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <cstring>
#include <set>

#include "log/log.h"
#include "netio/io_pool.h"
#include "netio/listen.h"
#include "netio/pending.h"
#include "milter/session.h"
#include "util/host_port.h"

namespace mailmoat::milter {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// TCP and unix-domain listeners share one socket type ("unix:/path" addresses).
using stream = asio::generic::stream_protocol;
using asio::awaitable;
using asio::use_awaitable;

using netio::Pending;

namespace {

const char* over_budget_name(OverBudget o) {
  switch (o) {
    case OverBudget::tempfail: return "tempfail";
    case OverBudget::accept: return "accept";
    case OverBudget::quarantine: return "quarantine";
  }
  return "tempfail";
}

// The verdict that stands in for a chain that did not finish in time.
pipeline::Verdict over_budget_verdict(const MilterListenerSettings& l) {
  pipeline::Verdict v;
  v.filter = "milter";
  v.reason = "message checks did not finish within " + std::to_string(l.budget_ms) + " ms (" +
             over_budget_name(l.over_budget) + " by configuration)";
  switch (l.over_budget) {
    case OverBudget::tempfail:
      v.disposition = pipeline::Disposition::tempfail;
      v.code = 451;
      v.enhanced = "4.7.0";
      v.text = "Temporary failure: message checks did not finish in time, try again later";
      break;
    case OverBudget::accept: v.disposition = pipeline::Disposition::accept; break;
    case OverBudget::quarantine: v.disposition = pipeline::Disposition::quarantine; break;
  }
  return v;
}

struct Listener {
  MilterListenerSettings settings;
  // One per connection loop for TCP (SO_REUSEPORT, netio/listen.h), else one on the shared loop.
  std::vector<asio::basic_socket_acceptor<stream>> acceptors;
  std::string unix_path;  // removed again at exit
  ~Listener() {
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
  }
};

// "host:port" or "unix:/path" as an endpoint of either family.
util::Result<stream::endpoint> endpoint_of(const std::string& address) {
  if (address.rfind("unix:", 0) == 0) {
    std::string path = address.substr(5);
    if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) return util::fail("bad unix socket path");
    return stream::endpoint(asio::local::stream_protocol::endpoint(path));
  }
  auto hp = util::parse_host_port(address);
  if (!hp) return util::fail(hp.error().message);
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp->host, ec);
  if (ec) return util::fail("\"" + hp->host + "\" is not an IP address");
  return stream::endpoint(tcp::endpoint(ip, hp->port));
}

}  // namespace

class MilterConnection;

struct MilterServer::Impl : std::enable_shared_from_this<MilterServer::Impl> {
  Impl(asio::io_context& i, MilterServerSettings s, std::shared_ptr<const pipeline::FilterChain> c, netio::IoPool* p)
      : io(i), loops(p), settings(std::move(s)), chain(std::move(c)) {}
  asio::io_context& io;
  netio::IoPool* loops;  // where connections run; null: strands of io
  MilterServerSettings settings;
  std::shared_ptr<const pipeline::FilterChain> chain;
  std::vector<std::unique_ptr<Listener>> listeners;
  std::atomic<bool> stopping{false};
  mutable std::mutex mu;
  std::set<std::shared_ptr<MilterConnection>> connections;
  awaitable<void> accept_loop(Listener& l, asio::basic_socket_acceptor<stream>& acceptor);
};

class MilterConnection : public std::enable_shared_from_this<MilterConnection> {
 public:
  MilterConnection(std::shared_ptr<MilterServer::Impl> server, stream::socket socket, const Listener& listener)
      : server_(std::move(server)), socket_(std::move(socket)), timer_(socket_.get_executor()), listener_(listener),
        session_(make_config()) {
    peer_ = listener_.unix_path.empty() ? "unknown" : "unix:" + listener_.unix_path;
    boost::system::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec && remote.protocol().family() != AF_UNIX) {
      tcp::endpoint t;
      std::memcpy(t.data(), remote.data(), std::min<std::size_t>(remote.size(), sizeof(sockaddr_in6)));
      peer_ = t.address().to_string();
    }
  }

  awaitable<void> run();
  void wake_if_idle() {
    if (idle_) force_close();
  }
  void force_close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  SessionConfig make_config() const {
    SessionConfig c;
    c.listener = listener_.settings.name;
    c.is_relay_client = server_->settings.is_relay_client;
    c.max_message_size = server_->settings.max_message_size;
    return c;
  }
  awaitable<bool> read_more();
  awaitable<void> flush();
  awaitable<void> end_of_message();
  void report(const pipeline::MessageContext& ctx, const pipeline::Verdict& v, const Session::Finish& f);

  std::shared_ptr<MilterServer::Impl> server_;
  stream::socket socket_;
  asio::steady_timer timer_;
  const Listener& listener_;
  Session session_;
  PacketReader reader_;
  std::string peer_;
  std::string out_;
  // One read's bytes; a member, so the coroutine frame of each read does not carry 64 KiB.
  std::vector<char> read_buffer_ = std::vector<char>(65536 + 16);
  bool idle_ = false;
};

awaitable<bool> MilterConnection::read_more() {
  std::vector<char>& buf = read_buffer_;
  timer_.expires_after(std::chrono::seconds(server_->settings.timeout_seconds));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->force_close();
  });
  auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
  timer_.cancel();
  if (ec) co_return false;
  // ACK at once: the MTA sends packets we do not answer (headers under SMFIP_NR_HDR,
  // body chunks) back to back, and its Nagle holds each small one until our delayed ACK
  // (~40 ms a message in bench/e2e's one-session pass; 9 ms over a unix socket). The
  // kernel drops quick-ACK mode by itself, so it is re-armed after every read; on a
  // unix-domain socket the call fails and changes nothing.
  int one = 1;
  (void)::setsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  reader_.feed(std::string_view(buf.data(), n));
  co_return true;
}

awaitable<void> MilterConnection::flush() {
  if (out_.empty()) co_return;
  std::string data = std::move(out_);
  out_.clear();
  timer_.expires_after(std::chrono::seconds(server_->settings.timeout_seconds));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->force_close();
  });
  co_await asio::async_write(socket_, asio::buffer(data), asio::as_tuple(use_awaitable));
  timer_.cancel();
}

void MilterConnection::report(const pipeline::MessageContext& ctx, const pipeline::Verdict& v,
                              const Session::Finish& f) {
  log::info("milter.message", {{"id", ctx.queue_id},
                               {"mta_id", ctx.mta_queue_id},
                               {"client", ctx.connection.client_address},
                               {"role", ctx.connection.role},
                               {"from", ctx.envelope.sender},
                               {"rcpts", ctx.envelope.recipients.size()},
                               {"filter", v.filter},
                               {"result", f.summary}});
  if (server_->settings.on_message) server_->settings.on_message(ctx, v, f.summary);
}

awaitable<void> MilterConnection::end_of_message() {
  std::shared_ptr<pipeline::MessageContext> ctx = session_.message();
  ctx->queue_id = server_->settings.next_id ? server_->settings.next_id() : std::string();
  if (session_.too_big()) {
    pipeline::Verdict v{pipeline::Disposition::reject, 552, "5.3.4", "Message too big for mailmoat", "milter",
                        "over smtp.max_message_size", ""};
    Session::Finish f = session_.finish(v, nullptr);
    out_ += f.out;
    report(*ctx, v, f);
    co_return;
  }
  const MilterListenerSettings& l = listener_.settings;
  std::optional<pipeline::Verdict> result;
  if (server_->chain && server_->chain->size() > 0) {
    // Waits in slices; between them SMFIR_PROGRESS restarts the MTA's
    // milter_content_timeout, so a budget longer than it is honoured.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(l.budget_ms);
    const auto slice = std::chrono::milliseconds(std::max(server_->settings.progress_seconds, 1) * 1000);
    auto pending = std::make_shared<Pending<pipeline::Verdict>>(socket_.get_executor(), slice);
    server_->chain->run(ctx, pending->callback());
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (pending->value || left.count() <= 0) break;
      pending->timer.expires_after(std::min(left, slice));
      co_await pending->wait();
      if (!pending->value && deadline > std::chrono::steady_clock::now()) {
        out_ += encode(reply::progress);
        co_await flush();
      }
    }
    result = std::move(pending->value);
  } else {
    result = pipeline::Verdict::accept();
  }
  if (result) {
    pipeline::run_final_actions(*ctx, *result);
    Session::Finish f = session_.finish(*result, ctx.get());
    out_ += f.out;
    report(*ctx, *result, f);
    co_return;
  }
  // The chain still owns ctx and may write to it: report from a fresh copy.
  std::shared_ptr<pipeline::MessageContext> as_received = session_.received_context();
  pipeline::Verdict v = over_budget_verdict(l);
  log::warn("milter.filter_budget_exceeded", {{"id", ctx->queue_id}, {"mta_id", ctx->mta_queue_id},
                                              {"budget_ms", l.budget_ms}, {"action", over_budget_name(l.over_budget)}});
  as_received->notes.push_back(pipeline::TraceNote{"milter", "budget_exceeded", v.reason});
  Session::Finish f = session_.finish(v, nullptr);
  out_ += f.out;
  report(*as_received, v, f);
}

awaitable<void> MilterConnection::run() {
  auto self = shared_from_this();
  log::debug("milter.connect", {{"peer", peer_}, {"listener", listener_.settings.name}});
  std::string error;
  for (bool open = true; open;) {
    while (open) {
      std::optional<Packet> packet = reader_.next();
      if (!packet) break;
      Session::Step step = session_.on_packet(*packet);
      out_ += step.out;
      if (step.action == Session::Action::close) {
        error = step.error;
        open = false;
      } else if (step.action == Session::Action::end_of_message) {
        co_await end_of_message();
      }
    }
    if (!reader_.error().empty()) {
      error = reader_.error();
      open = false;
    }
    co_await flush();
    if (!open || server_->stopping) break;
    idle_ = true;
    open = co_await read_more();
    idle_ = false;
  }
  if (!error.empty()) log::warn("milter.protocol_error", {{"peer", peer_}, {"error", error}});
  force_close();
  log::debug("milter.disconnect", {{"peer", peer_}, {"messages", session_.messages()}});
  std::lock_guard lock(server_->mu);
  server_->connections.erase(self);
}

awaitable<void> MilterServer::Impl::accept_loop(Listener& l, asio::basic_socket_acceptor<stream>& acceptor) {
  auto self = shared_from_this();
  while (!stopping) {
    // With connection loops a TCP listening socket belongs to one and accepts for it;
    // a unix-domain one accepts on the shared loop and hands each connection on.
    asio::any_io_executor where = loops ? acceptor.get_executor() : asio::any_io_executor(asio::make_strand(io));
    auto [ec, socket] = co_await acceptor.async_accept(where, asio::as_tuple(use_awaitable));
    if (!ec && loops && !l.unix_path.empty()) socket = netio::rehome(std::move(socket), loops->next(), ec);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      log::warn("milter.accept_failed", {{"listener", l.settings.name}, {"error", ec.message()}});
      continue;
    }
    auto conn = std::make_shared<MilterConnection>(self, std::move(socket), l);
    {
      std::lock_guard lock(mu);
      connections.insert(conn);
    }
    asio::co_spawn(conn->executor(), conn->run(), [conn](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("milter.session_failed", {{"error", ex.what()}});
      }
    });
  }
}

MilterServer::MilterServer(asio::io_context& io, MilterServerSettings settings,
                           std::shared_ptr<const pipeline::FilterChain> chain, netio::IoPool* loops)
    : impl_(std::make_shared<Impl>(io, std::move(settings), std::move(chain), loops)) {}

MilterServer::~MilterServer() {
  // With a pool of loops, the sockets of one server belong to several loops, and the
  // pending coroutines that keep Impl alive are destroyed with their own loop, in any
  // order. The server's own references go now, while every loop still exists, so that
  // whichever loop's teardown releases Impl last destroys nothing of another loop.
  // (The loops have stopped by now: nothing runs beside this.)
  if (!impl_->loops) return;
  std::lock_guard lock(impl_->mu);
  impl_->connections.clear();
  for (auto& l : impl_->listeners) l->acceptors.clear();
}

util::Result<std::vector<std::pair<std::string, std::string>>> MilterServer::listen() {
  std::vector<std::pair<std::string, std::string>> bound;
  for (const auto& ls : impl_->settings.listeners) {
    auto ep = endpoint_of(ls.address);
    if (!ep) return util::fail("cannot listen on " + ls.address + ": " + ep.error().message);
    const bool local = ep->protocol().family() == AF_UNIX;
    auto l = std::make_unique<Listener>();
    l->settings = ls;
    if (local) {
      l->unix_path = ls.address.substr(5);
      ::unlink(l->unix_path.c_str());  // a stale socket from a previous run
    }
    boost::system::error_code ec;
    ec = netio::open_acceptors(impl_->io.get_executor(), impl_->loops, *ep, !local, l->acceptors);
    // The MTA runs as another user (postfix): the directory, not the socket mode, limits who connects.
    if (!ec && local) ::chmod(l->unix_path.c_str(), 0666);
    if (ec) return util::fail("cannot listen on " + ls.address + ": " + ec.message());
    if (local) {
      bound.emplace_back(ls.name, ls.address);
    } else {
      tcp::endpoint t;
      auto le = l->acceptors.front().local_endpoint();
      std::memcpy(t.data(), le.data(), std::min<std::size_t>(le.size(), sizeof(sockaddr_in6)));
      bound.emplace_back(ls.name, util::format_host_port(t.address().to_string(), t.port()));
    }
    impl_->listeners.push_back(std::move(l));
  }
  return bound;
}

void MilterServer::start() {
  for (auto& l : impl_->listeners)
    for (auto& a : l->acceptors) asio::co_spawn(a.get_executor(), impl_->accept_loop(*l, a), asio::detached);
}

void MilterServer::stop() {
  impl_->stopping = true;
  for (auto& l : impl_->listeners)
    for (auto& a : l->acceptors)
      asio::post(a.get_executor(), [ap = &a] {
        boost::system::error_code ignored;
        ap->close(ignored);
      });
  std::lock_guard lock(impl_->mu);
  for (const auto& c : impl_->connections) asio::post(c->executor(), [c] { c->wake_if_idle(); });
}

void MilterServer::abort_sessions() {
  std::lock_guard lock(impl_->mu);
  for (const auto& c : impl_->connections) asio::post(c->executor(), [c] { c->force_close(); });
}

std::size_t MilterServer::active_sessions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace mailmoat::milter
