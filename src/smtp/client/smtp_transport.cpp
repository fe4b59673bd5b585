#include "smtp/client/smtp_transport.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "log/log.h"
#include "smtp/client/client_stream.h"
#include "smtp/client/delivery_plan.h"
#include "smtp/protocol/outgoing.h"
#include "smtp/protocol/reply.h"
#include "util/host_port.h"
#include "util/strings.h"

namespace mailmoat::smtp {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using tcp = asio::ip::tcp;
using queue::RecipientResult;
using Outcome = queue::RecipientResult::Outcome;
using namespace delivery_plan;

util::Result<NextHop> parse_next_hop(std::string_view text, std::uint16_t default_port) {
  NextHop hop;
  hop.port = default_port;
  if (text.starts_with("unix:")) {
    hop.unix_socket = true;
    hop.host = std::string(text.substr(5));
    if (hop.host.empty()) return util::fail("empty unix socket path");
    return hop;
  }
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return util::fail("missing ']' in next hop \"" + std::string(text) + "\"");
    hop.host = std::string(text.substr(1, close - 1));
    hop.literal = true;
    rest = text.substr(close + 1);
  } else {
    auto colon = text.rfind(':');
    hop.host = std::string(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : text.substr(colon);
  }
  if (!rest.empty()) {
    auto port = rest.front() == ':' ? util::parse_uint(rest.substr(1)) : std::nullopt;
    if (!port || *port == 0 || *port > 65535) return util::fail("bad port in next hop \"" + std::string(text) + "\"");
    hop.port = static_cast<std::uint16_t>(*port);
  }
  if (hop.host.empty()) return util::fail("empty host in next hop");
  return hop;
}

namespace {

std::vector<RecipientResult> all(std::size_t n, Outcome o, const std::string& reply, const std::string& remote = {}) {
  return std::vector<RecipientResult>(n, RecipientResult{o, reply, remote});
}

bool ehlo_offers(const Reply& ehlo, std::string_view ext) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i)
    if (util::istarts_with(ehlo.lines[i], ext) && (ehlo.lines[i].size() == ext.size() || ehlo.lines[i][ext.size()] == ' '))
      return true;
  return false;
}

// One SMTP/LMTP conversation over a connected stream.
template <typename Stream>
class Conversation {
 public:
  // `cached_ehlo`: the connection is a reused one whose greeting and EHLO are done.
  Conversation(Stream& s, const SmtpTransportOptions& o, std::string remote, std::optional<Reply> cached_ehlo = {},
               const TlsPlan* tls = nullptr)
      : stream_(s), timer_(s.get_executor()), options_(o), remote_(std::move(remote)), cached_ehlo_(std::move(cached_ehlo)),
        tls_(tls) {}

  awaitable<std::vector<RecipientResult>> run(const queue::DeliveryJob& job);
  // After run(): the transaction ended cleanly and the session may carry the next message.
  bool reusable() const { return reusable_; }
  // After run(): an opportunistic handshake failed; why, for a retry in clear on a new connection.
  const std::string& clear_retry() const { return clear_retry_; }
  // After run(): did this session try TLS, and the RFC 8460 result type of a failure ("" when it succeeded).
  bool tls_tried() const { return tls_tried_; }
  const std::string& tls_result() const { return tls_result_; }
  const std::string& tls_reason() const { return tls_reason_; }
  const std::optional<Reply>& ehlo() const { return cached_ehlo_; }

 private:
  // RFC 5321 §4.5.3.2 client timeouts per stage, scaled by options.timeout / 300 s.
  enum class Stage { greeting, command, data_init, data_end };
  std::chrono::milliseconds limit(Stage stage) const {
    const int base = stage == Stage::greeting ? 300 : stage == Stage::command ? 300 : stage == Stage::data_init ? 120 : 600;
    return std::chrono::milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count() *
                                     base / 300);
  }
  awaitable<std::optional<Reply>> read_reply(Stage stage = Stage::command);
  // STARTTLS per the plan; a value is the attempt's result when it must stop here.
  awaitable<std::optional<std::vector<RecipientResult>>> negotiate_tls(std::optional<Reply>& ehlo,
                                                                       const queue::DeliveryJob& job);
  awaitable<bool> send(const std::string& data);
  awaitable<bool> send_pieces(const std::vector<asio::const_buffer>& pieces, std::size_t size);
  // RFC 5321 §4.5.3.2.5: 3 minutes per data block; a whole message gets one more second per 64 KiB.
  void arm_send(std::size_t size) {
    arm(std::chrono::milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count() * 180 / 300 +
                                  static_cast<long long>(size / 65536) * 1000));
  }
  void arm(std::chrono::milliseconds limit) {
    timer_.expires_after(limit);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) {
        timed_out_ = true;
        boost::system::error_code ignored;
        stream_.close(ignored);
      }
    });
  }
  std::string failure_text(const char* stage) const {
    return std::string("451 4.4.2 ") + (timed_out_ ? "timeout" : "connection lost") + " while " + stage;
  }

  Stream& stream_;
  asio::steady_timer timer_;
  const SmtpTransportOptions& options_;
  std::string remote_;
  std::optional<Reply> cached_ehlo_;
  std::string in_;
  bool timed_out_ = false;
  bool reusable_ = false;
  std::string clear_retry_;
  bool tls_tried_ = false;
  std::string tls_result_, tls_reason_;
  const TlsPlan* tls_ = nullptr;
};

template <typename Stream>
awaitable<std::optional<std::vector<RecipientResult>>> Conversation<Stream>::negotiate_tls(std::optional<Reply>& ehlo,
                                                                                          const queue::DeliveryJob& job) {
  const std::size_t n = job.recipients.size();
  const tls::ClientPolicy& policy = tls_->policy;
  const bool required = tls::requires_tls(policy.level) && !tls_->testing;
  const std::string level = std::string(tls::level_name(policy.level)) + " (" + policy.origin + ")";
  if (policy.level == tls::Level::none) co_return std::nullopt;
  tls_tried_ = true;
  tls_result_ = "starttls-not-supported";
  tls_reason_ = "STARTTLS not offered";
  if (!ehlo->positive() || !ehlo_offers(*ehlo, "STARTTLS")) {
    if (!required) co_return std::nullopt;
    co_await send("QUIT\r\n");
    co_return tls_failed(n, "TLS policy " + level + ": " + remote_ + " does not offer STARTTLS", remote_);
  }
  if (!co_await send("STARTTLS\r\n")) co_return all(n, Outcome::deferred, failure_text("sending STARTTLS"), remote_);
  auto go = co_await read_reply();
  if (!go) co_return all(n, Outcome::deferred, failure_text("reading the STARTTLS reply"), remote_);
  if (go->code != 220) {
    tls_reason_ = "STARTTLS refused: " + go->summary();
    if (!required) co_return std::nullopt;
    co_await send("QUIT\r\n");
    co_return tls_failed(n, "TLS policy " + level + ": STARTTLS refused by " + remote_ + ": " + go->summary(), remote_);
  }
  in_.clear();  // RFC 3207 §4.2: nothing read before TLS counts after it
  arm(limit(Stage::greeting));
  // Named locals into co_await (g++ 12 coroutine bug, docs/decisions.md).
  std::shared_ptr<tls::ClientContext> context = tls_->context;
  const std::vector<dns::TlsaRecord>* tlsa = policy.level == tls::Level::dane ? &tls_->tlsa : nullptr;
  // RFC 7672 §2.2.2: records found at a secure CNAME expansion make it the base domain, the MX name a second identifier.
  const bool expanded = tlsa && !tls_->tlsa_base.empty();
  std::string server_name = expanded ? tls_->tlsa_base : tls_->mx_host;
  std::string alt_name = expanded ? tls_->mx_host : std::string();
  std::string dane_error;
  boost::system::error_code ec =
      co_await stream_.start_tls(std::move(context), std::move(server_name), tlsa, &dane_error, std::move(alt_name));
  timer_.cancel();
  if (ec && options_.on_tls_handshake)
    options_.on_tls_handshake(tls::HandshakeOutcome{
        false, {}, !dane_error.empty() ? std::string("dane") : tls::handshake_failure_reason(ec, timed_out_)});
  if (ec) {
    std::string why = "TLS handshake with " + remote_ + " failed: " +
                      (!dane_error.empty() ? dane_error : timed_out_ ? std::string("timeout") : ec.message());
    tls_result_ = "validation-failure";
    tls_reason_ = why;
    if (required) co_return tls_failed(n, "TLS policy " + level + ": " + why, remote_);
    // Opportunistic TLS (RFC 7435): like Postfix, try this host again without STARTTLS.
    clear_retry_ = timed_out_ ? std::string("timeout") : ec.message();
    co_return all(n, Outcome::deferred, "451 4.7.5 " + why, remote_);
  }
  tls::ServerCheck check = tls::check_server(stream_.native_handle(), policy, tls_->mx_host, job.domain);
  if (options_.on_tls_handshake) {
    const char* version = SSL_get_version(stream_.native_handle());
    options_.on_tls_handshake(check.ok ? tls::HandshakeOutcome{true, version ? version : "unknown", {}}
                                       : tls::HandshakeOutcome{false, {}, "policy"});
  }
  remote_ += " (" + check.summary + ")";
  tls_result_ = check.ok ? std::string() : check.failure_type;
  tls_reason_ = check.ok ? std::string() : check.reason;
  if (!check.ok && tls_->testing) {
    // RFC 8461 §5: a testing policy's failure is reported, and delivery goes on.
    log::info("mta_sts.testing_failure", {{"remote", remote_}, {"reason", check.reason}, {"note", "reported, not enforced"}});
  } else if (!check.ok) {
    co_await send("QUIT\r\n");
    co_return tls_failed(n, "TLS policy " + level + " not met: " + check.reason, remote_);
  }
  if (!co_await send("EHLO " + options_.helo_name + "\r\n"))
    co_return all(n, Outcome::deferred, failure_text("sending EHLO after STARTTLS"), remote_);
  ehlo = co_await read_reply();
  if (!ehlo || !ehlo->positive())
    co_return all(n, Outcome::deferred, ehlo ? ehlo->summary() : failure_text("reading the EHLO reply after STARTTLS"), remote_);
  co_return std::nullopt;
}

template <typename Stream>
awaitable<std::optional<Reply>> Conversation<Stream>::read_reply(Stage stage) {
  Reply reply;
  for (;;) {
    std::size_t eol;
    while ((eol = in_.find("\r\n")) == std::string::npos) {
      if (in_.size() > 65536) co_return std::nullopt;
      char buf[4096];
      arm(limit(stage));
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
      timer_.cancel();
      if (ec) co_return std::nullopt;
      in_.append(buf, n);
    }
    std::string line = in_.substr(0, eol);
    in_.erase(0, eol + 2);
    if (line.size() < 3) co_return std::nullopt;
    auto code = util::parse_uint(std::string_view(line).substr(0, 3));
    if (!code || *code < 200 || *code > 599) co_return std::nullopt;
    reply.code = static_cast<int>(*code);
    std::string text = line.size() > 4 ? line.substr(4) : std::string();
    reply.lines.push_back(text);
    if (line.size() == 3 || line[3] == ' ') break;
    if (line[3] != '-') co_return std::nullopt;
  }
  // Enhanced status code (RFC 3463) at the start of the text, if present.
  const std::string& first = reply.lines.front();
  auto sp = first.find(' ');
  std::string head = first.substr(0, sp);
  if (head.size() >= 5 && (head[0] == '2' || head[0] == '4' || head[0] == '5') && head[1] == '.') {
    reply.enhanced = head;
    for (auto& l : reply.lines)
      if (l.starts_with(head)) l = std::string(util::trim(std::string_view(l).substr(head.size())));
  }
  co_return reply;
}

template <typename Stream>
awaitable<bool> Conversation<Stream>::send(const std::string& data) {
  arm_send(data.size());
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(data), asio::as_tuple(use_awaitable));
  timer_.cancel();
  co_return !ec;
}

template <typename Stream>
awaitable<bool> Conversation<Stream>::send_pieces(const std::vector<asio::const_buffer>& pieces, std::size_t size) {
  arm_send(size);
  auto [ec, n] = co_await asio::async_write(stream_, pieces, asio::as_tuple(use_awaitable));
  timer_.cancel();
  co_return !ec;
}

template <typename Stream>
awaitable<std::vector<RecipientResult>> Conversation<Stream>::run(const queue::DeliveryJob& job) {
  const std::size_t n = job.recipients.size();
  const bool lmtp = options_.mode == SmtpTransportOptions::Mode::lmtp;
  auto fail_all = [&](const Reply& r) {
    return all(n, r.permanent() ? Outcome::failed : Outcome::deferred, r.summary(), remote_);
  };
  std::optional<Reply> ehlo = cached_ehlo_;
  const bool reused = cached_ehlo_.has_value();
  bool esmtp = true;
  if (!ehlo) {
    auto greeting = co_await read_reply(Stage::greeting);
    if (!greeting) co_return all(n, Outcome::deferred, failure_text("reading the greeting"), remote_);
    if (!greeting->positive()) co_return all(n, Outcome::deferred, greeting->summary(), remote_);
    if (!co_await send(std::string(lmtp ? "LHLO " : "EHLO ") + options_.helo_name + "\r\n"))
      co_return all(n, Outcome::deferred, failure_text("sending EHLO"), remote_);
    ehlo = co_await read_reply();
    if (!ehlo) co_return all(n, Outcome::deferred, failure_text("reading the EHLO reply"), remote_);
    esmtp = ehlo->positive();
  }
  if constexpr (std::is_same_v<Stream, ClientStream>) {
    // A reused connection already met the same policy (the pool key includes it).
    if (tls_ && !reused) {
      if (auto stop = co_await negotiate_tls(ehlo, job)) co_return std::move(*stop);
      esmtp = ehlo->positive();
    }
  }
  if (!esmtp && !lmtp) {
    if (!co_await send("HELO " + options_.helo_name + "\r\n")) co_return all(n, Outcome::deferred, failure_text("HELO"), remote_);
    ehlo = co_await read_reply();
    if (!ehlo || !ehlo->positive()) co_return all(n, Outcome::deferred, ehlo ? ehlo->summary() : failure_text("HELO"), remote_);
  }
  cached_ehlo_ = ehlo;
  auto offers = [&](std::string_view ext) {
    if (!esmtp) return false;
    for (std::size_t i = 1; i < ehlo->lines.size(); ++i)
      if (util::istarts_with(ehlo->lines[i], ext) &&
          (ehlo->lines[i].size() == ext.size() || ehlo->lines[i][ext.size()] == ' '))
        return true;
    return false;
  };
  std::uint64_t size_limit = 0;
  for (std::size_t i = 1; esmtp && i < ehlo->lines.size(); ++i)
    if (util::istarts_with(ehlo->lines[i], "SIZE "))
      size_limit = util::parse_uint(util::trim(std::string_view(ehlo->lines[i]).substr(5))).value_or(0);
  const std::string& message = *job.message;
  if (size_limit && message.size() > size_limit)
    co_return all(n, Outcome::failed, "552 5.3.4 message size " + std::to_string(message.size()) +
                                          " exceeds the limit of " + std::to_string(size_limit) + " of the next hop",
                  remote_);
  // RFC 8689 §4.2: a REQUIRETLS message goes only to a next hop that offers it, over the verified TLS above.
  if (job.requiretls && !offers("REQUIRETLS"))
    co_return all(n, Outcome::failed, "550 5.7.30 REQUIRETLS is required and " + remote_ + " does not offer it", remote_);
  if (job.smtputf8 && !offers("SMTPUTF8"))
    co_return all(n, Outcome::failed, "553 5.6.7 the next hop does not support SMTPUTF8", remote_);
  const bool pipelining = offers("PIPELINING");
  const bool dsn = offers("DSN");
  const bool bdat = options_.use_bdat && offers("CHUNKING");

  std::string mail = "MAIL FROM:<" + job.sender + ">";
  if (offers("SIZE")) mail += " SIZE=" + std::to_string(message.size());
  if (util::has_8bit(message) && offers("8BITMIME")) mail += " BODY=8BITMIME";
  if (job.smtputf8) mail += " SMTPUTF8";
  if (job.requiretls) mail += " REQUIRETLS";
  if (dsn && !job.ret.empty()) mail += " RET=" + job.ret;
  if (dsn && !job.envid.empty()) mail += " ENVID=" + xtext(job.envid);
  std::vector<std::string> rcpts;
  for (const auto& r : job.recipients) {
    std::string line = "RCPT TO:<" + r.address + ">";
    if (dsn && !r.notify.empty()) line += " NOTIFY=" + r.notify;
    if (dsn && !r.orcpt.empty()) {
      auto semi = r.orcpt.find(';');
      line += " ORCPT=" + r.orcpt.substr(0, semi + 1) + xtext(r.orcpt.substr(semi + 1));
    }
    rcpts.push_back(line + "\r\n");
  }

  std::vector<RecipientResult> results(n);
  std::vector<std::size_t> accepted;
  std::optional<Reply> mail_reply;
  if (pipelining) {
    std::string batch = mail + "\r\n";
    for (const auto& r : rcpts) batch += r;
    if (!bdat) batch += "DATA\r\n";
    if (!co_await send(batch)) co_return all(n, Outcome::deferred, failure_text("sending the envelope"), remote_);
    mail_reply = co_await read_reply();
    if (!mail_reply) co_return all(n, Outcome::deferred, failure_text("reading the MAIL reply"), remote_);
    for (std::size_t i = 0; i < n; ++i) {
      auto r = co_await read_reply();
      if (!r) co_return all(n, Outcome::deferred, failure_text("reading RCPT replies"), remote_);
      results[i] = {r->positive() ? Outcome::delivered : (r->permanent() ? Outcome::failed : Outcome::deferred),
                    r->summary(), remote_};
      if (r->positive() && mail_reply->positive()) accepted.push_back(i);
    }
    if (!mail_reply->positive()) {
      if (!bdat) co_await read_reply(Stage::data_init);  // the DATA reply, necessarily an error
      co_await send("QUIT\r\n");
      co_return fail_all(*mail_reply);
    }
  } else {
    if (!co_await send(mail + "\r\n")) co_return all(n, Outcome::deferred, failure_text("sending MAIL"), remote_);
    mail_reply = co_await read_reply();
    if (!mail_reply) co_return all(n, Outcome::deferred, failure_text("reading the MAIL reply"), remote_);
    if (!mail_reply->positive()) {
      co_await send("QUIT\r\n");
      co_return fail_all(*mail_reply);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!co_await send(rcpts[i])) co_return all(n, Outcome::deferred, failure_text("sending RCPT"), remote_);
      auto r = co_await read_reply();
      if (!r) co_return all(n, Outcome::deferred, failure_text("reading the RCPT reply"), remote_);
      results[i] = {r->positive() ? Outcome::delivered : (r->permanent() ? Outcome::failed : Outcome::deferred),
                    r->summary(), remote_};
      if (r->positive()) accepted.push_back(i);
    }
  }
  if (accepted.empty()) {
    if (pipelining && !bdat) co_await read_reply(Stage::data_init);  // DATA was pipelined: read its (error) reply
    if (!pipelining || bdat) co_await send("RSET\r\n");
    co_await send("QUIT\r\n");
    co_return results;
  }
  if (bdat) {
    std::string command = "BDAT " + std::to_string(message.size()) + " LAST\r\n";
    std::vector<asio::const_buffer> chunk{asio::buffer(command), asio::buffer(message)};
    if (!co_await send_pieces(chunk, command.size() + message.size()))
      co_return all(n, Outcome::deferred, failure_text("sending BDAT"), remote_);
  } else {
    if (!pipelining && !co_await send("DATA\r\n")) co_return all(n, Outcome::deferred, failure_text("sending DATA"), remote_);
    auto go = co_await read_reply(Stage::data_init);
    if (!go) co_return all(n, Outcome::deferred, failure_text("reading the DATA reply"), remote_);
    if (go->code != 354) {
      for (auto i : accepted)
        results[i] = {go->permanent() ? Outcome::failed : Outcome::deferred, go->summary(), remote_};
      co_await send("QUIT\r\n");
      co_return results;
    }
    std::vector<asio::const_buffer> payload;
    std::size_t size = 0;
    for (std::string_view piece : dot_stuffed(message)) {
      payload.emplace_back(piece.data(), piece.size());
      size += piece.size();
    }
    if (!co_await send_pieces(payload, size))
      co_return all(n, Outcome::deferred, failure_text("sending the message"), remote_);
  }
  // LMTP answers once per accepted recipient; SMTP once for all.
  const std::size_t answers = lmtp ? accepted.size() : 1;
  for (std::size_t k = 0; k < answers; ++k) {
    auto r = co_await read_reply(Stage::data_end);
    if (!r) {
      for (std::size_t j = k; j < accepted.size(); ++j)
        results[accepted[j]] = {Outcome::deferred, failure_text("waiting for the end-of-data reply"), remote_};
      co_return results;
    }
    RecipientResult res{r->positive() ? Outcome::delivered : (r->permanent() ? Outcome::failed : Outcome::deferred),
                        r->summary(), remote_};
    if (lmtp) {
      results[accepted[k]] = res;
    } else {
      for (auto i : accepted) results[i] = res;
    }
  }
  // The transaction is over and the session is in step: it may carry the next message.
  reusable_ = in_.empty();
  if (!reusable_) co_await send("QUIT\r\n");
  co_return results;
}

bool tls_policy_failure(const std::vector<RecipientResult>& results) {
  return std::all_of(results.begin(), results.end(), [](const RecipientResult& r) { return r.tls_failure; });
}

bool connection_failure(const std::vector<RecipientResult>& results) {
  return std::all_of(results.begin(), results.end(), [](const RecipientResult& r) {
    return r.outcome == Outcome::deferred && r.reply.starts_with("451 4.4.2");
  });
}

}  // namespace

// Sessions kept open after a clean transaction, per next-hop address, so the
// next message to the same destination skips connect, greeting and EHLO.
struct ConnectionPool {
  struct Idle {
    std::unique_ptr<ClientStream> stream;
    Reply ehlo;
    std::chrono::steady_clock::time_point since;
    int uses = 0;
  };
  static constexpr auto kMaxIdle = std::chrono::seconds(5);
  static constexpr int kMaxUses = 100;
  std::mutex mu;
  std::multimap<std::string, Idle> idle;

  std::optional<Idle> take(const std::string& key) {
    std::lock_guard lock(mu);
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle.begin(); it != idle.end();) {
      if (now - it->second.since > kMaxIdle) {
        boost::system::error_code ignored;
        it->second.stream->close(ignored);
        it = idle.erase(it);
      } else {
        ++it;
      }
    }
    auto it = idle.find(key);
    if (it == idle.end()) return std::nullopt;
    Idle found = std::move(it->second);
    idle.erase(it);
    return found;
  }
  void put(const std::string& key, Idle conn) {
    if (conn.uses >= kMaxUses) return;
    std::lock_guard lock(mu);
    conn.since = std::chrono::steady_clock::now();
    idle.emplace(key, std::move(conn));
  }
};

namespace {

// A TCP connection within min(timeout, 30 s); null and the error otherwise.
awaitable<std::pair<std::unique_ptr<ClientStream>, std::string>> connect(tcp::endpoint endpoint, std::chrono::seconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket connecting(ex);
  asio::steady_timer timer(ex);
  timer.expires_after(std::min(timeout, std::chrono::seconds(30)));
  timer.async_wait([&connecting](const boost::system::error_code& e) {
    if (!e) {
      boost::system::error_code ignored;
      connecting.close(ignored);
    }
  });
  auto [cec] = co_await connecting.async_connect(endpoint, asio::as_tuple(use_awaitable));
  timer.cancel();
  if (cec) co_return std::pair<std::unique_ptr<ClientStream>, std::string>{nullptr, cec.message()};
  co_return std::pair<std::unique_ptr<ClientStream>, std::string>{std::make_unique<ClientStream>(std::move(connecting)), ""};
}

awaitable<std::vector<RecipientResult>> deliver_tcp(std::vector<Target> targets, const SmtpTransportOptions& options,
                                                    const queue::DeliveryJob& job, ConnectionPool* pool,
                                                    const TlsPlan* tls_base) {
  std::vector<RecipientResult> last = all(job.recipients.size(), Outcome::deferred, "451 4.4.1 no next hop reachable");
  for (const auto& t : targets) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(t.address, ec);
    std::string remote = t.name + "[" + t.address + "]:" + std::to_string(t.port);
    if (ec) continue;
    std::optional<TlsPlan> plan;
    if (t.tls) plan = *t.tls;
    else if (tls_base) plan = *tls_base;
    if (plan) plan->mx_host = t.name;
    if (plan && !plan->refuse.empty()) {
      if (!plan->report_failure.empty()) report_tls(options, job, *plan, t, {}, {}, {});
      last = tls_failed(job.recipients.size(), plan->refuse, remote);
      continue;
    }
    // A testing plan's session may have failed its checks: never pooled with an enforcing one.
    const std::string key = t.address + ":" + std::to_string(t.port) +
                            (plan ? "|" + plan->policy.key() + (plan->testing ? "|testing" : "") : "");
    if (auto reused = pool ? pool->take(key) : std::nullopt) {
      Conversation<ClientStream> conv(*reused->stream, options, remote, reused->ehlo, plan ? &*plan : nullptr);
      auto results = co_await conv.run(job);
      if (!connection_failure(results)) {
        if (conv.reusable())
          pool->put(key, ConnectionPool::Idle{std::move(reused->stream), *conv.ehlo(), {}, reused->uses + 1});
        co_return results;
      }
      // The peer closed the idle session: fall through to a fresh connection.
    }
    tcp::endpoint endpoint(address, t.port);
    auto stream = co_await connect(endpoint, options.timeout);
    if (!stream.first) {
      last = all(job.recipients.size(), Outcome::deferred, "451 4.4.1 cannot connect to " + remote + ": " + stream.second, remote);
      continue;
    }
    Conversation<ClientStream> conv(*stream.first, options, remote, {}, plan ? &*plan : nullptr);
    auto results = co_await conv.run(job);
    if (plan && conv.tls_tried()) report_tls(options, job, *plan, t, conv.tls_result(), conv.tls_reason(), stream.first->local_address());
    if (!conv.clear_retry().empty()) {
      // Not pooled: the key promises the policy's TLS, this session has none.
      std::string why = conv.clear_retry();
      log::info("smtp.tls_fallback", {{"remote", remote}, {"error", why}, {"note", "retrying in clear (level may)"}});
      auto clear = co_await connect(endpoint, options.timeout);
      if (!clear.first) {
        last = all(job.recipients.size(), Outcome::deferred, "451 4.4.1 cannot connect to " + remote + ": " + clear.second, remote);
        continue;
      }
      Conversation<ClientStream> plain(*clear.first, options, remote + " (TLS handshake failed: " + why + "; retried in clear)");
      results = co_await plain.run(job);
      if (!connection_failure(results)) co_return results;
      last = std::move(results);
      continue;
    }
    // A connection-level failure (all deferred before any answer), or a TLS policy this host
    // did not meet (RFC 7672 §2.2.2; Postfix does the same), moves on to the next host.
    if (!connection_failure(results) && !tls_policy_failure(results)) {
      if (pool && conv.reusable()) pool->put(key, ConnectionPool::Idle{std::move(stream.first), *conv.ehlo(), {}, 1});
      co_return results;
    }
    if (tls_policy_failure(results) && !results.empty())
      log::info("smtp.tls_host_failed", {{"remote", results.front().remote}, {"reply", results.front().reply}});
    last = std::move(results);
  }
  co_return last;
}

awaitable<std::vector<RecipientResult>> deliver_unix(std::string path, const SmtpTransportOptions& options,
                                                     const queue::DeliveryJob& job) {
  auto ex = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket socket(ex);
  auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(path), asio::as_tuple(use_awaitable));
  if (ec) co_return all(job.recipients.size(), Outcome::deferred, "451 4.4.1 cannot connect to unix:" + path + ": " + ec.message());
  Conversation<asio::local::stream_protocol::socket> conv(socket, options, "unix:" + path);
  co_return co_await conv.run(job);
}

}  // namespace

SmtpTransport::SmtpTransport(asio::io_context& io, SmtpTransportOptions options, dns::Resolver* resolver)
    : io_(io), options_(std::move(options)), resolver_(resolver), pool_(std::make_shared<ConnectionPool>()) {}

std::string SmtpTransport::destination(const queue::DeliveryJob& job) const {
  return options_.mode == SmtpTransportOptions::Mode::mx ? "mx:" + job.domain : job.next_hop;
}

namespace {

awaitable<std::vector<RecipientResult>> deliver_job(SmtpTransportOptions options, dns::Resolver* resolver,
                                                    std::shared_ptr<const queue::DeliveryJob> job,
                                                    std::shared_ptr<ConnectionPool> pool_owner,
                                                    std::shared_ptr<tls::ClientContextCache> contexts) {
  ConnectionPool* pool = pool_owner.get();
  const auto& j = *job;
  const std::size_t n = j.recipients.size();
  const std::uint16_t default_port = options.mode == SmtpTransportOptions::Mode::lmtp ? 24 : 25;
  std::optional<TlsPlan> tls_plan;
  if (options.mode == SmtpTransportOptions::Mode::lmtp && j.require_tls)
    co_return tls_failed(n, "a transport rule requires verified TLS and LMTP delivery has none", "");
  if (options.mode != SmtpTransportOptions::Mode::lmtp) {
    tls::ClientPolicy policy = options.tls_policies->for_domain(j.domain, j.requiretls);
    if (j.require_tls && !tls::authenticates(policy.level)) {
      // A rule's require_tls: verified TLS to the next hop; a failure defers, never clear text.
      policy.level = tls::Level::verify;
      policy.origin += " raised to verify by a transport rule";
    }
    if (policy.level != tls::Level::none) {
      auto context = contexts->get(policy);
      if (!context)
        co_return tls_failed(n, "TLS policy " + std::string(tls::level_name(policy.level)) + " (" + policy.origin +
                                    ") cannot be applied: " + context.error().message, "");
      tls_plan = TlsPlan{policy, *context, {}, {}, {}, "no-policy-found", {}, {}, {}, {}, false, {}};
    }
  }
  const TlsPlan* tls_base = tls_plan ? &*tls_plan : nullptr;
  if (options.mode == SmtpTransportOptions::Mode::mx) {
    if (!resolver) co_return all(n, Outcome::deferred, "451 4.3.5 no DNS resolver configured");
    std::string error;
    bool permanent = false;
    std::vector<std::string> bogus;
    // cppcheck-suppress nullPointerRedundantCheck ; co_return above leaves when null (unknown to cppcheck 2.10)
    auto targets = co_await mx_targets(*resolver, j.domain, 25, error, permanent, bogus);
    if (tls_plan && tls::uses_dane(tls_plan->policy.level)) report_bogus(options, j, bogus);
    if (targets.empty()) co_return all(n, permanent ? Outcome::failed : Outcome::deferred, error);
    bool dane_applied = false;
    if (tls_plan && tls::uses_dane(tls_plan->policy.level))
      dane_applied = co_await resolve_dane(*resolver, targets, *tls_plan, *contexts, j.requiretls);
    // RFC 8461 §2: DANE wins where both exist; dane-only never falls back to MTA-STS.
    if (options.mta_sts && tls_plan && tls_plan->policy.origin.starts_with("tls.outbound_level") && !dane_applied &&
        tls_plan->policy.level != tls::Level::dane_only) {
      auto refused = co_await apply_mta_sts(options, j, targets, tls_plan, *contexts);
      if (refused) co_return std::move(*refused);
    }
    co_return co_await deliver_tcp(std::move(targets), options, j, pool, tls_plan ? &*tls_plan : nullptr);
  }
  auto hop = parse_next_hop(j.next_hop, default_port);
  if (!hop) co_return all(n, Outcome::deferred, "451 4.3.5 bad next hop: " + hop.error().message);
  if (hop->unix_socket) co_return co_await deliver_unix(hop->host, options, j);
  boost::system::error_code ec;
  asio::ip::make_address(hop->host, ec);
  if (!ec) {
    std::vector<Target> literal(1, Target{hop->host, hop->host, hop->port, false, {}, {}});
    if (tls_plan && tls::uses_dane(tls_plan->policy.level) && resolver)
      co_await resolve_dane(*resolver, literal, *tls_plan, *contexts, j.requiretls);
    co_return co_await deliver_tcp(std::move(literal), options, j, pool, tls_base);
  }
  if (!resolver)
    co_return all(n, Outcome::deferred, "451 4.3.5 next hop " + hop->host + " is a name and no DNS resolver is configured");
  std::vector<Target> targets;
  for (auto type : kAddressTypes) {
    dns::Question question{hop->host, type};
    // cppcheck-suppress nullPointerRedundantCheck ; co_return above leaves when null (unknown to cppcheck 2.10)
    dns::Answer a = co_await resolve(*resolver, std::move(question));
    for (const auto& addr : a.addresses) targets.push_back({hop->host, addr, hop->port, a.authenticated, a.canonical_name, {}});
  }
  if (tls_plan && tls::uses_dane(tls_plan->policy.level))
    co_await resolve_dane(*resolver, targets, *tls_plan, *contexts, j.requiretls);
  co_return co_await deliver_tcp(std::move(targets), options, j, pool, tls_base);
}

}  // namespace

void SmtpTransport::deliver(queue::DeliveryJob job, Done done) {
  auto shared_job = std::make_shared<const queue::DeliveryJob>(std::move(job));
  const std::size_t n = shared_job->recipients.size();
  asio::co_spawn(asio::make_strand(io_), deliver_job(options_, resolver_, shared_job, pool_, tls_contexts_),
                 [done = std::move(done), n](const std::exception_ptr& e, std::vector<RecipientResult> results) mutable {
                   if (e) results = all(n, Outcome::deferred, "451 4.3.0 internal error during delivery");
                   done(std::move(results));
                 });
}

}  // namespace mailmoat::smtp
