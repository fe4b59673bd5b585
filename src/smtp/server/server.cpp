#include "smtp/server/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <tuple>

#include "log/log.h"
#include "netio/io_pool.h"
#include "netio/listen.h"
#include "netio/pending.h"
#include "smtp/protocol/trace_fields.h"
#include "util/host_port.h"
#include "util/strings.h"

namespace mailmoat::smtp {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

using netio::Pending;

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The reply for a verdict that ends the transaction without queueing: the
// filter's own code and text, or the disposition's default.
Reply refusal_reply(const pipeline::Verdict& v, const std::string& queue_id) {
  using pipeline::Disposition;
  if (v.disposition == Disposition::discard) return Reply(250, "2.0.0", "Ok: queued as " + queue_id);
  const bool reject = v.disposition == Disposition::reject;
  return Reply(v.code ? v.code : (reject ? 550 : 451), v.enhanced.empty() ? (reject ? "5.7.1" : "4.7.1") : v.enhanced,
               v.text.empty() ? (reject ? "Message refused" : "Try again later") : v.text);
}

// One line for the message trace: what the TLS session established.
std::string tls_trace_detail(const pipeline::TlsFacts& t) {
  std::string d = t.version + " " + t.cipher;
  if (!t.server_name.empty()) d += "; sni " + t.server_name;
  if (t.peer_subject.empty()) return d + "; no client certificate";
  d += "; client certificate " + t.peer_subject;
  if (!t.peer_names.empty()) {
    d += " names";
    for (const auto& n : t.peer_names) d += " " + n;
  }
  return d + (t.peer_verified ? "; verified" : "; not verified: " + t.verify_error);
}

std::string role_name(Role r) {
  switch (r) {
    case Role::inbound: return "inbound";
    case Role::relay: return "relay";
    case Role::submission: return "submission";
  }
  return "inbound";
}

}  // namespace

struct Listener {
  ListenerSettings settings;
  // One per session loop (SO_REUSEPORT, netio/listen.h), or one on the shared loop.
  std::vector<tcp::acceptor> acceptors;
  // Replaced on SIGHUP; a session keeps the context it started with.
  std::shared_ptr<tls::ServerContext> tls() const {
    std::lock_guard lock(tls_mu);
    return tls_context;
  }
  void set_tls(std::shared_ptr<tls::ServerContext> c) {
    std::lock_guard lock(tls_mu);
    tls_context = std::move(c);
  }
  mutable std::mutex tls_mu;
  std::shared_ptr<tls::ServerContext> tls_context;
};

class Connection;

struct SmtpServer::Impl : std::enable_shared_from_this<SmtpServer::Impl> {
  Impl(asio::io_context& i, ServerSettings s, pipeline::MessageSink& k, std::shared_ptr<const pipeline::FilterChain> c,
       netio::IoPool* p)
      : io(i), loops(p), settings(std::move(s)), sink(k), chain(std::move(c)), limiter(settings.connections),
        live(std::make_shared<const ServerSettings>(settings)) {}

  // The settings new sessions start with; SIGHUP replaces them (listeners excepted).
  std::shared_ptr<const ServerSettings> current() const {
    std::lock_guard lock(settings_mu);
    return live;
  }

  asio::io_context& io;
  netio::IoPool* loops;  // where sessions run; null: strands of io
  ServerSettings settings;
  pipeline::MessageSink& sink;
  std::shared_ptr<const pipeline::FilterChain> chain;
  std::vector<std::unique_ptr<Listener>> listeners;
  ConnectionLimiter limiter;
  std::atomic<bool> stopping{false};
  mutable std::mutex settings_mu;
  std::shared_ptr<const ServerSettings> live;
  mutable std::mutex mu;
  std::set<std::shared_ptr<Connection>> connections;

  awaitable<void> accept_loop(Listener& l, tcp::acceptor& acceptor);
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<SmtpServer::Impl> server, tcp::socket socket, Listener& listener)
      : server_(std::move(server)),
        settings_(server_->current()),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        listener_(listener),
        tls_context_(listener.tls()),
        session_(SessionConfig{}) {
    boost::system::error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
      auto addr = remote.address();
      if (addr.is_v6() && addr.to_v6().is_v4_mapped()) addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
      client_ip_ = addr.to_string();
      client_port_ = remote.port();
    }
    session_ = Session(make_config());  // needs client_ip_, known only now
  }

  awaitable<void> run();

  // Called on this connection's strand by stop(): an idle session is woken to say 421.
  void wake_if_idle() {
    if (idle_) socket_.cancel();
  }
  void force_close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  enum class LineResult { line, need_more, too_long, bare };

  SessionConfig make_config() const {
    const ServerSettings& s = *settings_;
    SessionConfig c;
    c.hostname = s.hostname;
    c.role = listener_.settings.role;
    c.client_may_relay = util::any_contains(s.relay_networks, client_ip_);
    c.accepted_domains = s.accepted_domains;
    c.recipients = s.recipients;
    c.max_recipients = s.max_recipients;
    c.max_errors = s.max_errors;
    c.max_command_line = s.max_command_line;
    c.content = s.content;
    c.content.line_endings = listener_.settings.line_endings;
    c.starttls_available = tls_context_ != nullptr;
    // RFC 8689: outbound delivery honours REQUIRETLS (verified TLS, next hop offering it).
    c.requiretls = c.starttls_available;
    c.blocked_senders = s.blocked_senders;
    return c;
  }

  std::chrono::seconds timeout() const {
    return std::chrono::seconds(server_->limiter.busy() ? settings_->busy_timeout_seconds
                                                        : settings_->timeout_seconds);
  }

  awaitable<bool> read_more();
  awaitable<void> flush();
  LineResult next_line(std::string_view& line);
  awaitable<bool> handle(Session::Step step);
  awaitable<bool> read_content();
  awaitable<bool> read_bdat(std::uint64_t size);
  awaitable<bool> start_tls();
  awaitable<Reply> process_message();
  awaitable<Reply> queue_message(std::shared_ptr<pipeline::MessageContext> ctx, pipeline::Submission submission);

  std::shared_ptr<SmtpServer::Impl> server_;
  std::shared_ptr<const ServerSettings> settings_;  // as they were when the session began
  tcp::socket socket_;
  std::optional<ssl::stream<tcp::socket&>> tls_;
  asio::steady_timer timer_;
  Listener& listener_;
  std::shared_ptr<tls::ServerContext> tls_context_;
  Session session_;
  std::string client_ip_ = "unknown";
  std::uint16_t client_port_ = 0;
  std::string in_;
  std::size_t pos_ = 0;
  std::string out_;
  bool idle_ = false;
  bool discarding_ = false;  // dropping an over-long command line up to its LF
  bool timed_out_ = false;
  // When the record being read (a command line or a content line) must be
  // complete: the timeout runs per record, not per read, so a client that
  // trickles a byte every few seconds cannot hold a session (Postfix's
  // smtpd_per_record_deadline). Cleared when a line end arrives.
  std::optional<std::chrono::steady_clock::time_point> record_deadline_;
  boost::system::error_code read_error_;
  pipeline::TlsFacts tls_facts_;
};

awaitable<bool> Connection::read_more() {
  if (pos_ > 0 && pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  constexpr std::size_t kChunk = 16384;
  std::size_t old = in_.size();
  in_.resize(old + kChunk);
  timed_out_ = false;
  if (!record_deadline_) record_deadline_ = std::chrono::steady_clock::now() + timeout();
  timer_.expires_at(*record_deadline_);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) {
      self->timed_out_ = true;
      self->socket_.cancel();
    }
  });
  auto buffer = asio::buffer(in_.data() + old, kChunk);
  // An if rather than `?:` around the two co_awaits: cppcheck 2.10 cannot parse the latter and
  // would skip this file.
  std::tuple<boost::system::error_code, std::size_t> got;
  if (tls_)
    got = co_await tls_->async_read_some(buffer, asio::as_tuple(use_awaitable));
  else
    got = co_await socket_.async_read_some(buffer, asio::as_tuple(use_awaitable));
  auto [ec, n] = got;
  timer_.cancel();
  if (n > 0 && std::memchr(in_.data() + old, '\n', n) != nullptr) record_deadline_.reset();
  in_.resize(old + n);
  read_error_ = ec;
  co_return !ec;
}

awaitable<void> Connection::flush() {
  if (out_.empty()) co_return;
  std::string data = std::move(out_);
  out_.clear();
  timer_.expires_after(timeout());
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->force_close();
  });
  if (tls_)
    co_await asio::async_write(*tls_, asio::buffer(data), asio::as_tuple(use_awaitable));
  else
    co_await asio::async_write(socket_, asio::buffer(data), asio::as_tuple(use_awaitable));
  timer_.cancel();
}

Connection::LineResult Connection::next_line(std::string_view& line) {
  std::string_view avail = std::string_view(in_).substr(pos_);
  std::size_t lf = avail.find('\n');
  const std::size_t max = settings_->max_command_line;
  const bool strict = listener_.settings.line_endings == LineEndings::strict;
  if (lf == std::string_view::npos) {
    std::size_t cr = avail.find('\r');
    if (cr != std::string_view::npos && cr + 1 < avail.size()) return LineResult::bare;
    if (avail.size() >= max || discarding_) {
      discarding_ = true;
      pos_ = in_.size();  // drop what we have; keep dropping up to the LF
    }
    return LineResult::need_more;
  }
  line = avail.substr(0, lf);
  pos_ += lf + 1;
  bool crlf = !line.empty() && line.back() == '\r';
  if (crlf) line.remove_suffix(1);
  if (discarding_) {
    discarding_ = false;
    return LineResult::too_long;
  }
  if ((!crlf && strict) || line.find('\r') != std::string_view::npos) return LineResult::bare;
  if (line.size() + 2 > max) return LineResult::too_long;
  return LineResult::line;
}

awaitable<bool> Connection::read_content() {
  ContentReader& content = session_.content();
  for (;;) {
    pos_ += content.consume(std::string_view(in_).substr(pos_));
    if (content.status() != ContentReader::Status::need_more) co_return true;
    if (!co_await read_more()) co_return false;
  }
}

awaitable<bool> Connection::read_bdat(std::uint64_t size) {
  ContentReader& content = session_.content();
  while (size > 0) {
    if (pos_ == in_.size() && !co_await read_more()) co_return false;
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size, in_.size() - pos_));
    if (content.status() == ContentReader::Status::need_more) content.consume(std::string_view(in_).substr(pos_, take));
    pos_ += take;
    size -= take;
  }
  co_return true;
}

awaitable<bool> Connection::start_tls() {
  co_await flush();
  // RFC 3207 §4.2 / CVE-2011-0411: anything pipelined after STARTTLS is discarded.
  in_.clear();
  pos_ = 0;
  tls_.emplace(socket_, tls_context_->context());
  // A client that stalls mid-handshake gets the command timeout, then is cut.
  timed_out_ = false;
  timer_.expires_after(timeout());
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) {
      self->timed_out_ = true;
      self->force_close();
    }
  });
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, asio::as_tuple(use_awaitable));
  timer_.cancel();
  if (ec) {
    log::warn("smtp.tls_failed", {{"client", client_ip_},
                                  {"error", timed_out_ ? std::string("handshake timed out") : ec.message()}});
    if (settings_->on_tls_handshake)
      settings_->on_tls_handshake(tls::HandshakeOutcome{false, {}, tls::handshake_failure_reason(ec, timed_out_)});
    co_return false;
  }
  tls::SessionFacts f = tls::session_facts(tls_->native_handle());
  if (settings_->on_tls_handshake) settings_->on_tls_handshake(tls::HandshakeOutcome{true, f.version, {}});
  tls_facts_.active = true;
  tls_facts_.version = std::move(f.version);
  tls_facts_.cipher = std::move(f.cipher);
  tls_facts_.server_name = std::move(f.server_name);
  tls_facts_.peer_subject = std::move(f.peer_subject);
  tls_facts_.peer_names = std::move(f.peer_names);
  tls_facts_.peer_verified = f.peer_verified;
  tls_facts_.verify_error = std::move(f.verify_error);
  tls_facts_.peer_chain_der = std::move(f.peer_chain_der);
  session_.tls_started();
  log::info("smtp.tls", {{"client", client_ip_}, {"version", tls_facts_.version}, {"cipher", tls_facts_.cipher},
                         {"sni", tls_facts_.server_name}, {"peer", tls_facts_.peer_subject},
                         {"verified", tls_facts_.peer_subject.empty() ? "-" : tls_facts_.peer_verified ? "yes" : "no"}});
  co_return true;
}

awaitable<bool> Connection::handle(Session::Step step) {
  for (const Reply& r : step.replies) out_ += r.wire();
  switch (step.action) {
    case Session::Action::none: co_return true;
    case Session::Action::close: co_await flush(); co_return false;
    case Session::Action::read_data:
      co_await flush();
      if (!co_await read_content()) co_return false;
      co_return co_await handle(session_.content_complete());
    case Session::Action::read_bdat:
      if (!co_await read_bdat(session_.bdat_size())) co_return false;
      co_return co_await handle(session_.chunk_received());
    case Session::Action::start_tls: co_return co_await start_tls();
    case Session::Action::end_of_message: {
      Reply r = co_await process_message();
      co_return co_await handle(session_.message_done(std::move(r)));
    }
  }
  co_return false;
}

awaitable<Reply> Connection::process_message() {
  const ServerSettings& s = *settings_;
  auto ctx = std::make_shared<pipeline::MessageContext>();
  ctx->connection.client_address = client_ip_;
  ctx->connection.client_port = client_port_;
  ctx->connection.listener = listener_.settings.name;
  ctx->connection.role = role_name(listener_.settings.role);
  ctx->connection.helo = session_.helo_name();
  ctx->connection.tls = tls_facts_;
  const Transaction& t = session_.transaction();
  ctx->envelope.sender = t.sender.address;
  ctx->envelope.body_type = t.params.body;
  ctx->envelope.smtputf8 = t.params.smtputf8;
  ctx->envelope.ret = t.params.ret;
  ctx->envelope.envid = t.params.envid;
  ctx->envelope.requiretls = t.params.requiretls;
  for (const auto& r : t.recipients)
    ctx->envelope.recipients.push_back(pipeline::EnvelopeRecipient{r.path.address, r.params.notify, r.params.orcpt});
  ctx->message = session_.content().take_message();
  ctx->queue_id = server_->sink.next_queue_id();

  std::size_t hops = count_received(ctx->message);
  if (hops >= s.max_hops) {
    log::warn("smtp.loop", {{"id", ctx->queue_id}, {"client", client_ip_}, {"received_fields", hops}});
    co_return Reply(554, "5.4.6", "Too many hops (" + std::to_string(hops) + " Received fields): mail loop");
  }
  ReceivedInfo info;
  info.helo = session_.helo_name();
  info.client_address = client_ip_;
  info.by_host = s.hostname;
  info.queue_id = ctx->queue_id;
  info.esmtp = session_.esmtp();
  info.tls = tls_facts_.active;
  info.tls_version = tls_facts_.version;
  info.tls_cipher = tls_facts_.cipher;
  info.tls_peer_subject = tls_facts_.peer_subject;
  info.tls_peer_verified = tls_facts_.peer_verified;
  info.utf8 = t.params.smtputf8;
  if (t.recipients.size() == 1) info.single_recipient = t.recipients[0].path.address;
  info.unix_time = unix_now();
  ctx->message.insert(0, received_field(info));
  if (tls_facts_.active) ctx->notes.push_back({"tls", "session", tls_trace_detail(tls_facts_)});

  pipeline::Verdict verdict;
  if (server_->chain && server_->chain->size() > 0) {
    auto pending = std::make_shared<Pending<pipeline::Verdict>>(socket_.get_executor(),
                                                                std::chrono::milliseconds(s.filter_budget_ms));
    server_->chain->run(ctx, pending->callback());
    co_await pending->wait();
    std::optional<pipeline::Verdict> result = std::move(pending->value);
    if (!result) {
      log::warn("smtp.filter_budget_exceeded", {{"id", ctx->queue_id}, {"budget_ms", s.filter_budget_ms}});
      co_return Reply(451, "4.7.0", "Temporary failure: message checks did not finish in time, try again later");
    }
    verdict = std::move(*result);
  }
  pipeline::run_final_actions(*ctx, verdict);
  using pipeline::Disposition;
  switch (verdict.disposition) {
    case Disposition::reject:
    case Disposition::tempfail:
    case Disposition::discard: {
      Reply r = refusal_reply(verdict, ctx->queue_id);
      log::info("smtp.refused", {{"id", ctx->queue_id}, {"filter", verdict.filter}, {"reason", verdict.reason},
                                 {"reply", r.summary()}});
      if (s.on_refused) s.on_refused(*ctx, verdict, r);
      co_return r;
    }
    case Disposition::quarantine: {
      pipeline::apply_edits(ctx->message, ctx->edits);
      pipeline::Submission submission;
      submission.quarantine_reason = verdict.category.empty() ? verdict.filter : verdict.category;
      submission.quarantine_policy = verdict.filter + ": " + verdict.reason;
      co_return co_await queue_message(ctx, std::move(submission));
    }
    case Disposition::hold: {
      pipeline::apply_edits(ctx->message, ctx->edits);
      pipeline::Submission submission;
      submission.hold = true;
      submission.hold_reason = verdict.filter + ": " + verdict.reason;
      co_return co_await queue_message(ctx, std::move(submission));
    }
    case Disposition::accept: {
      pipeline::apply_edits(ctx->message, ctx->edits);
      pipeline::Submission submission;
      co_return co_await queue_message(ctx, std::move(submission));
    }
  }
  co_return Reply(451, "4.3.0", "Internal error");
}

awaitable<Reply> Connection::queue_message(std::shared_ptr<pipeline::MessageContext> ctx,
                                           pipeline::Submission submission) {
  const std::string id = ctx->queue_id;
  const std::size_t size = ctx->message.size();
  const std::size_t rcpts = ctx->envelope.recipients.size();
  const std::string sender = ctx->envelope.sender;
  auto pending = std::make_shared<Pending<util::Result<void>>>(socket_.get_executor(), std::chrono::minutes(10));
  const char* held = submission.hold ? "yes" : !submission.quarantine_reason.empty() ? "quarantine" : "no";
  submission.context = std::move(ctx);
  server_->sink.submit(std::move(submission), pending->callback());
  co_await pending->wait();
  std::optional<util::Result<void>> result = std::move(pending->value);
  if (!result || !*result) {
    log::error("smtp.spool_failed", {{"id", id}, {"error", result ? result->error().message : "timed out"}});
    co_return Reply(452, "4.3.1", "Insufficient system storage, try again later");
  }
  const char* via = session_.content().mode() == ContentReader::Mode::bdat ? "BDAT" : "DATA";
  log::info("smtp.queued", {{"id", id}, {"client", client_ip_}, {"from", sender}, {"rcpts", rcpts}, {"via", via},
                            {"size", size}, {"tls", tls_facts_.active ? tls_facts_.version : "no"},
                            {"held", held}});
  co_return Reply(250, "2.0.0", "Ok: queued as " + id);
}

awaitable<void> Connection::run() {
  auto self = shared_from_this();
  const ServerSettings& s = *settings_;
  if (auto refused = server_->limiter.admit(client_ip_)) {
    log::warn("smtp.refused", {{"client", client_ip_}, {"reason", *refused}});
    out_ = Reply(421, "4.7.0", s.hostname + " " + *refused + ", try again later").wire();
    co_await flush();
    force_close();
    co_return;
  }
  if (util::any_contains(s.blocked_networks, client_ip_)) {
    log::info("smtp.refused", {{"client", client_ip_}, {"reason", "client address on the IP block list"}});
    out_ = Reply(554, "5.7.1", s.hostname + " Access denied: client address on the block list").wire();
    co_await flush();
    force_close();
    co_return;
  }
  log::debug("smtp.connect", {{"client", client_ip_}, {"listener", listener_.settings.name}});
  out_ = session_.greeting().wire();
  for (bool open = true; open;) {
    if (server_->stopping) {
      out_ += Reply(421, "4.3.2", s.hostname + " Service shutting down, try again later").wire();
      co_await flush();
      break;
    }
    std::string_view line;
    LineResult r = next_line(line);
    if (r == LineResult::need_more) {
      co_await flush();
      idle_ = true;
      // stop() may have run while the reply was being written; it only wakes idle sessions.
      if (server_->stopping) continue;
      bool ok = co_await read_more();
      idle_ = false;
      if (ok) continue;
      if (server_->stopping) continue;  // say 421 4.3.2 above
      if (timed_out_) {
        out_ += Reply(421, "4.4.2", s.hostname + " Timeout exceeded, closing connection").wire();
        co_await flush();
      }
      break;
    }
    Session::Step step = r == LineResult::line       ? session_.on_line(line)
                         : r == LineResult::too_long ? session_.on_line_too_long()
                                                     : session_.on_bare_line_ending();
    open = co_await handle(std::move(step));
  }
  force_close();
  server_->limiter.release(client_ip_);
  log::debug("smtp.disconnect", {{"client", client_ip_}, {"messages", session_.messages_accepted()}});
  std::lock_guard lock(server_->mu);
  server_->connections.erase(self);
}

awaitable<void> SmtpServer::Impl::accept_loop(Listener& l, tcp::acceptor& acceptor) {
  auto self = shared_from_this();
  while (!stopping) {
    // With session loops each listening socket belongs to one and accepts for it.
    asio::any_io_executor where = loops ? acceptor.get_executor() : asio::any_io_executor(asio::make_strand(io));
    auto [ec, socket] = co_await acceptor.async_accept(where, asio::as_tuple(use_awaitable));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) break;
      log::warn("smtp.accept_failed", {{"listener", l.settings.name}, {"error", ec.message()}});
      continue;
    }
    auto conn = std::make_shared<Connection>(self, std::move(socket), l);
    {
      std::lock_guard lock(mu);
      connections.insert(conn);
    }
    asio::co_spawn(conn->executor(), conn->run(), [conn](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::error("smtp.session_failed", {{"error", ex.what()}});
      }
    });
  }
}

SmtpServer::SmtpServer(asio::io_context& io, ServerSettings settings, pipeline::MessageSink& sink,
                       std::shared_ptr<const pipeline::FilterChain> chain, netio::IoPool* loops)
    : impl_(std::make_shared<Impl>(io, std::move(settings), sink, std::move(chain), loops)) {}

SmtpServer::~SmtpServer() {
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

util::Result<std::vector<std::pair<std::string, std::string>>> SmtpServer::listen() {
  std::vector<std::pair<std::string, std::string>> bound;
  for (const auto& ls : impl_->settings.listeners) {
    auto l = std::make_unique<Listener>();
    l->settings = ls;
    if (ls.tls.enabled()) {
      auto ctx = tls::ServerContext::build(ls.tls);
      if (!ctx) return util::fail("listener " + ls.name + ": TLS: " + ctx.error().message);
      l->set_tls(std::move(*ctx));
    }
    auto hp = util::parse_host_port(ls.address);
    if (!hp) return util::fail("cannot listen on " + ls.address + ": " + hp.error().message);
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(hp->host, ec), hp->port);
    if (!ec) ec = netio::open_acceptors(impl_->io.get_executor(), impl_->loops, ep, true, l->acceptors);
    if (ec) return util::fail("cannot listen on " + ls.address + ": " + ec.message());
    auto local = l->acceptors.front().local_endpoint();
    bound.emplace_back(ls.name, util::format_host_port(local.address().to_string(), local.port()));
    impl_->listeners.push_back(std::move(l));
  }
  return bound;
}

void SmtpServer::start() {
  for (auto& l : impl_->listeners)
    for (auto& a : l->acceptors) asio::co_spawn(a.get_executor(), impl_->accept_loop(*l, a), asio::detached);
}

util::Result<void> SmtpServer::reload(ServerSettings settings) {
  // Bound sockets stay as they are; certificates are re-read for each listener by name.
  std::vector<std::pair<Listener*, std::shared_ptr<tls::ServerContext>>> contexts;
  for (auto& l : impl_->listeners) {
    std::shared_ptr<tls::ServerContext> next;
    for (const auto& ls : settings.listeners) {
      if (ls.name != l->settings.name || !ls.tls.enabled()) continue;
      auto built = tls::ServerContext::build(ls.tls);
      if (!built) return util::fail("listener " + ls.name + ": TLS: " + built.error().message);
      next = std::move(*built);
    }
    contexts.emplace_back(l.get(), std::move(next));
  }
  for (auto& [l, ctx] : contexts) l->set_tls(std::move(ctx));
  settings.listeners = impl_->settings.listeners;
  if (!settings.on_refused) settings.on_refused = impl_->settings.on_refused;
  if (!settings.on_tls_handshake) settings.on_tls_handshake = impl_->settings.on_tls_handshake;
  impl_->limiter.set_limits(settings.connections);
  auto next = std::make_shared<const ServerSettings>(std::move(settings));
  std::lock_guard lock(impl_->settings_mu);
  impl_->live = std::move(next);
  return {};
}

void SmtpServer::stop() {
  impl_->stopping = true;
  for (auto& l : impl_->listeners)
    for (auto& a : l->acceptors)
      asio::post(a.get_executor(), [impl = impl_, ap = &a] {
        boost::system::error_code ignored;
        ap->close(ignored);
      });
  std::lock_guard lock(impl_->mu);
  for (const auto& c : impl_->connections) asio::post(c->executor(), [c] { c->wake_if_idle(); });
}

void SmtpServer::abort_sessions() {
  std::lock_guard lock(impl_->mu);
  for (const auto& c : impl_->connections) asio::post(c->executor(), [c] { c->force_close(); });
}

std::size_t SmtpServer::active_sessions() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace mailmoat::smtp
