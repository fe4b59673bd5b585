#include "smtp/client/smtp_transport.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "log/log.h"
#include "smtp/client/client_stream.h"
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

// (An initializer list inside a coroutine trips g++ 12; a named array does not.)
constexpr dns::RecordType kAddressTypes[] = {dns::RecordType::a, dns::RecordType::aaaa};

// What STARTTLS must achieve on one connection: the policy, its context, the MX host name.
struct TlsPlan {
  tls::ClientPolicy policy;
  std::shared_ptr<tls::ClientContext> context;
  std::string mx_host;
  std::vector<dns::TlsaRecord> tlsa;  // level dane: the host's usable TLSA records (RFC 7672)
  std::string refuse;                 // non-empty: this host must not be used (dane-only without TLSA)
  // TLS-RPT (RFC 8460 §4.2): which policy this is, as the report names it.
  std::string report_type = "no-policy-found";  // tlsa, sts, no-policy-found
  std::string report_policy;                    // '\n'-separated policy-string lines
  std::string report_mx;                        // sts: the policy's mx patterns
  // A failure found before the connection (RFC 8460 §4.3: sts-policy-fetch-error, tlsa-invalid, ...):
  // recorded for a refused host, and for a session on this plan in place of its own result.
  std::string report_failure;
  std::string report_reason;
  bool testing = false;     // MTA-STS testing (RFC 8461 §5): checked like verify and reported, never enforced
  std::string tlsa_base;    // level dane: the TLSA base domain when it is the MX name's secure CNAME expansion
};

struct Target {
  std::string name;     // host name for logs and the trace
  std::string address;  // numeric address
  std::uint16_t port = 25;
  bool secure = false;  // the MX and address records were DNSSEC-validated (RFC 7672 §2.2)
  std::string expanded;  // the name the address records' CNAME chain led to, if any (RFC 7672 §2.2.2)
  std::optional<TlsPlan> tls;  // a plan of its own (DANE resolved per host), else the delivery's
};

// Waits for a Resolver answer; resumes on the awaiting coroutine's executor.
// A plain function (not a coroutine): g++ 12 mishandles lambdas with
// captured strings inside coroutine frames.
struct ResolveInitiation {
  dns::Resolver* resolver;
  template <typename Handler>
  void operator()(Handler handler, dns::Question q) const {
    auto ex = asio::get_associated_executor(handler);
    auto h = std::make_shared<Handler>(std::move(handler));
    resolver->resolve(std::move(q), [h, ex](dns::Answer a) mutable {
      asio::post(ex, [h, a = std::move(a)]() mutable { (*h)(std::move(a)); });
    });
  }
};

auto resolve(dns::Resolver& resolver, dns::Question q) {
  return asio::async_initiate<decltype(use_awaitable), void(dns::Answer)>(ResolveInitiation{&resolver}, use_awaitable,
                                                                          std::move(q));
}

std::vector<RecipientResult> all(std::size_t n, Outcome o, const std::string& reply, const std::string& remote = {}) {
  return std::vector<RecipientResult>(n, RecipientResult{o, reply, remote});
}

bool ehlo_offers(const Reply& ehlo, std::string_view ext) {
  for (std::size_t i = 1; i < ehlo.lines.size(); ++i)
    if (util::istarts_with(ehlo.lines[i], ext) && (ehlo.lines[i].size() == ext.size() || ehlo.lines[i][ext.size()] == ' '))
      return true;
  return false;
}

// A required TLS policy was not met: deferred (never sent in clear), marked for `queue retry --tls-failures`.
std::vector<RecipientResult> tls_failed(std::size_t n, const std::string& reason, const std::string& remote) {
  return std::vector<RecipientResult>(n, RecipientResult{Outcome::deferred, "451 4.7.5 " + reason, remote, true});
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
  // RFC 5321 §4.5.3.2.5: 3 minutes per data block; a whole message gets one more second per 64 KiB.
  arm(std::chrono::milliseconds(std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count() * 180 / 300 +
                                static_cast<long long>(data.size() / 65536) * 1000));
  auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(data), asio::as_tuple(use_awaitable));
  timer_.cancel();
  co_return !ec;
}

std::string dot_stuff(const std::string& message) {
  std::string out;
  out.reserve(message.size() + message.size() / 50 + 8);
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!out.ends_with("\r\n")) out += "\r\n";
  return out;
}

bool has_8bit(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

std::string xtext(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "+%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
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
  if (has_8bit(message) && offers("8BITMIME")) mail += " BODY=8BITMIME";
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
    std::string chunk = "BDAT " + std::to_string(message.size()) + " LAST\r\n" + message;
    if (!co_await send(chunk)) co_return all(n, Outcome::deferred, failure_text("sending BDAT"), remote_);
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
    if (!co_await send(dot_stuff(message) + ".\r\n"))
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

// `bogus` collects the names whose answers failed DNSSEC validation ("" for the MX lookup itself).
awaitable<std::vector<Target>> mx_targets(dns::Resolver& resolver, const std::string& domain, std::uint16_t port,
                                          std::string& error, bool& permanent, std::vector<std::string>& bogus) {
  std::vector<Target> targets;
  dns::Question mx_question{domain, dns::RecordType::mx};  // named: see ResolveInitiation
  dns::Answer mx = co_await resolve(resolver, std::move(mx_question));
  std::vector<std::string> hosts;
  if (mx.status == dns::Status::ok) {
    if (mx.mx.size() == 1 && mx.mx[0].exchange.empty()) {
      error = "556 5.1.10 recipient domain " + domain + " accepts no mail (null MX, RFC 7505)";
      permanent = true;
      co_return targets;
    }
    auto records = mx.mx;
    std::shuffle(records.begin(), records.end(), std::mt19937(std::random_device{}()));
    std::stable_sort(records.begin(), records.end(),
                     [](const dns::MxRecord& a, const dns::MxRecord& b) { return a.preference < b.preference; });
    for (const auto& r : records)
      if (!r.exchange.empty()) hosts.push_back(r.exchange);
  } else if (mx.status == dns::Status::nodata) {
    hosts.push_back(domain);  // RFC 5321 §5.1: the implicit MX
  } else if (mx.status == dns::Status::nxdomain) {
    error = "550 5.1.2 recipient domain " + domain + " does not exist";
    permanent = true;
    co_return targets;
  } else {
    error = "451 4.4.3 DNS lookup of MX for " + domain + " failed";
    if (mx.bogus) bogus.push_back("");
    co_return targets;
  }
  for (const auto& host : hosts) {
    for (auto type : kAddressTypes) {
      dns::Question question{host, type};
      dns::Answer a = co_await resolve(resolver, std::move(question));
      if (a.bogus) bogus.push_back(host);
      for (const auto& addr : a.addresses)
        targets.push_back({host, addr, port, mx.authenticated && a.authenticated, a.canonical_name, {}});
    }
  }
  if (targets.empty()) error = "451 4.4.4 no address found for the MX hosts of " + domain;
  co_return targets;
}

// RFC 8460 §4.2: an STS policy-string is the policy's lines.
std::string sts_policy_lines(const tls::StsPolicy& p) {
  std::string out = "version: STSv1\nmode: ";
  out += p.mode == tls::StsMode::enforce ? "enforce" : p.mode == tls::StsMode::testing ? "testing" : "none";
  out += "\n";
  for (const auto& mx : p.mx) out += "mx: " + mx + "\n";
  return out + "max_age: " + std::to_string(p.max_age) + "\n";
}

// RFC 7672 §2.2: per host, DNSSEC-validated TLSA records at _port._tcp.<host> decide how a dane or
// dane-only delivery uses TLS there. True when at least one host got DANE authentication.
awaitable<bool> resolve_dane(dns::Resolver& resolver, std::vector<Target>& targets, const TlsPlan& base,
                             tls::ClientContextCache& contexts, bool requiretls) {
  bool any = false;
  const bool only = base.policy.level == tls::Level::dane_only;
  const std::string level = std::string(tls::level_name(base.policy.level)) + " (" + base.policy.origin + ")";
  std::map<std::string, TlsPlan> by_host;
  for (auto& t : targets) {
    const std::string host_key = t.name + ":" + std::to_string(t.port) + (t.secure ? "" : "|insecure");
    if (auto it = by_host.find(host_key); it != by_host.end()) {
      t.tls = it->second;
      continue;
    }
    TlsPlan plan = base;
    plan.mx_host = t.name;
    std::string why;  // why DANE does not apply to this host
    boost::system::error_code ec;
    asio::ip::make_address(t.name, ec);
    if (!ec) {
      why = "the next hop is an address, not a name";
    } else if (!t.secure) {
      why = "the MX or address records of " + t.name + " are not DNSSEC-validated";
    } else {
      std::string qname = "_" + std::to_string(t.port) + "._tcp." + (t.expanded.empty() ? t.name : t.expanded);
      dns::Question question{qname, dns::RecordType::tlsa};
      dns::Answer a = co_await resolve(resolver, std::move(question));
      if (!t.expanded.empty() && a.authenticated && (a.status == dns::Status::nodata || a.status == dns::Status::nxdomain)) {
        // RFC 7672 §2.2.2: none at the secure CNAME expansion, so the original name's records count.
        qname = "_" + std::to_string(t.port) + "._tcp." + t.name;
        dns::Question original{qname, dns::RecordType::tlsa};
        a = co_await resolve(resolver, std::move(original));
      } else if (!t.expanded.empty()) {
        plan.tlsa_base = t.expanded;
      }
      plan.report_type = "tlsa";
      if (a.status == dns::Status::servfail || a.status == dns::Status::timeout) {
        plan.refuse = "TLS policy " + level + ": TLSA lookup of " + qname + " failed" +
                      (a.bogus ? " (DNSSEC validation failed)" : "") + ", host not used (RFC 7672 §2.2)";
        // RFC 8460 §4.3.2.1: no valid records came back from the resolver.
        plan.report_failure = "dnssec-invalid";
        plan.report_reason = "TLSA lookup of " + qname + (a.bogus ? ": DNSSEC validation failed (bogus)" : ": SERVFAIL or timeout");
      } else if (!a.authenticated) {
        why = "the TLSA answer for " + qname + " is not DNSSEC-validated";
      } else if (a.status != dns::Status::ok) {
        why = "no TLSA records at " + qname;
      } else {
        tls::TlsaSet set = tls::usable_tlsa(a.tlsa);
        for (const auto& ignored : set.ignored) log::info("dane.tlsa_ignored", {{"name", qname}, {"record", ignored}});
        if (!set.usable.empty()) {
          plan.policy.level = tls::Level::dane;
          plan.policy.origin = "DANE TLSA " + qname + ", " + base.policy.origin;
          plan.report_type = "tlsa";
          for (const auto& r : set.usable) plan.report_policy += tls::tlsa_text(r, 64) + "\n";
          plan.tlsa = std::move(set.usable);
          any = true;
        } else {
          // RFC 8460 tlsa-invalid, with the records as the policy-string; a session still goes out under encrypt.
          for (const auto& r : a.tlsa) plan.report_policy += tls::tlsa_text(r, 64) + "\n";
          plan.report_failure = "tlsa-invalid";
          plan.report_reason = "the TLSA records at " + qname + " are all unusable";
          if (only) {
            plan.refuse = "TLS policy " + level + ": the TLSA records at " + qname + " are all unusable";
          } else {
            // RFC 7672 §2.2: secure but unusable TLSA records still make TLS mandatory.
            plan.policy.level = tls::Level::encrypt;
            plan.policy.origin = "dane: TLSA records at " + qname + " all unusable, " + base.policy.origin;
          }
        }
      }
    }
    if (!why.empty()) {
      plan.report_type = base.report_type;
      if (only) {
        plan.refuse = "TLS policy " + level + ": " + why;
        // RFC 8460 dane-required: DANE is mandatory here and this host has no validated TLSA records.
        plan.report_failure = "dane-required";
        plan.report_reason = why;
      } else {
        plan.policy.level = requiretls ? tls::Level::verify : tls::Level::may;
        plan.policy.origin = "dane not applied: " + why + ", " + base.policy.origin;
      }
    }
    if (plan.refuse.empty() && plan.policy.level != base.policy.level) {
      auto context = contexts.get(plan.policy);
      if (!context) plan.refuse = "TLS policy " + level + " cannot be applied: " + context.error().message;
      else plan.context = *context;
    }
    log::debug("dane.host", {{"host", t.name},
                             {"level", tls::level_name(plan.policy.level)},
                             {"note", plan.refuse.empty() ? plan.policy.origin : plan.refuse}});
    by_host[host_key] = plan;
    t.tls = std::move(plan);
  }
  co_return any;
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

// TLS-RPT (RFC 8460 §4): one new session, or one host refused before any session, under `plan`.
// A failure of the plan itself (found before connecting) is the result, whatever the session did.
void report_tls(const SmtpTransportOptions& options, const queue::DeliveryJob& job, const TlsPlan& plan, const Target& t,
                std::string result, std::string reason, std::string sending_ip) {
  if (!options.tls_report) return;
  if (!plan.report_failure.empty()) {
    reason = result.empty() ? plan.report_reason : plan.report_reason + "; the session: " + reason;
    result = plan.report_failure;
  }
  options.tls_report(tls::TlsRptResult{job.domain, plan.report_type, plan.report_policy, plan.report_mx, std::move(result),
                                       std::move(sending_ip), t.name, t.address, std::move(reason), 1});
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

// RFC 8460 dnssec-invalid: with DANE in use, an MX or address answer that failed validation ("" is the MX lookup).
void report_bogus(const SmtpTransportOptions& options, const queue::DeliveryJob& j, const std::vector<std::string>& names) {
  if (!options.tls_report) return;
  for (const auto& name : names)
    options.tls_report(tls::TlsRptResult{j.domain, "tlsa", "", "", "dnssec-invalid", "", name, "",
                                         "DNSSEC validation of the " + (name.empty() ? "MX records of " + j.domain
                                                                                      : "address records of " + name) +
                                             " failed (bogus)",
                                         1});
}

// MTA-STS (RFC 8461) with its TLS-RPT reporting (RFC 8460): enforce keeps only the listed MX hosts and
// verifies their certificates; testing (§5) checks the same per session and reports it without enforcing;
// a policy published but not obtained is reported (sts-policy-*) on the sessions that go on without it.
// A value is the delivery's result when no host may be used.
awaitable<std::optional<std::vector<RecipientResult>>> apply_mta_sts(const SmtpTransportOptions& options,
                                                                      const queue::DeliveryJob& j, std::vector<Target>& targets,
                                                                      std::optional<TlsPlan>& tls_plan,
                                                                      tls::ClientContextCache& contexts) {
  const std::size_t n = j.recipients.size();
  std::string domain = j.domain;
  tls::StsLookup sts = co_await options.mta_sts->lookup(std::move(domain));
  log::debug("mta_sts.lookup", {{"domain", j.domain}, {"note", sts.note}});
  if (!sts.found) {
    if (sts.failure.empty()) co_return std::nullopt;
    for (auto& t : targets) {
      TlsPlan p = t.tls ? *t.tls : *tls_plan;
      if (!p.refuse.empty()) continue;  // already refused (and reported) for its own reason
      p.report_type = "sts";
      p.report_policy.clear();
      p.report_mx.clear();
      p.report_failure = sts.failure;
      p.report_reason = sts.note;
      t.tls = std::move(p);
    }
    co_return std::nullopt;
  }
  if (sts.policy.mode == tls::StsMode::none) co_return std::nullopt;
  const std::string lines = sts_policy_lines(sts.policy);
  std::string patterns;
  for (const auto& mx : sts.policy.mx) patterns += mx + "\n";
  if (sts.policy.mode == tls::StsMode::enforce) {
    // RFC 8461 §4.2: only MX hosts the policy lists, over TLS verified for the MX name.
    std::vector<Target> listed;
    for (const auto& t : targets)
      if (tls::sts_allows_mx(sts.policy, t.name)) listed.push_back(t);
    if (listed.empty()) {
      // RFC 8460 §4.3: validation-failure, one per MX host address not tried, with the MX named.
      for (const auto& t : targets) {
        TlsPlan refused;
        refused.report_type = "sts";
        refused.report_policy = lines;
        refused.report_mx = patterns;
        refused.report_failure = "validation-failure";
        refused.report_reason = "MX host " + t.name + " is not listed in the MTA-STS policy (enforce)";
        report_tls(options, j, refused, t, {}, {}, {});
      }
      co_return tls_failed(n, "MTA-STS policy of " + j.domain + " (id " + sts.id + ", enforce) lists none of its MX hosts", "");
    }
    targets = std::move(listed);
    tls::ClientPolicy enforced = tls_plan->policy;
    if (!tls::authenticates(enforced.level) || tls::uses_dane(enforced.level)) enforced.level = tls::Level::verify;
    enforced.match_names.clear();
    enforced.origin = "MTA-STS enforce, policy id " + sts.id;
    auto context = contexts.get(enforced);
    if (!context) co_return tls_failed(n, "MTA-STS: " + context.error().message, "");
    TlsPlan plan;
    plan.policy = enforced;
    plan.context = *context;
    plan.report_type = "sts";
    plan.report_policy = lines;
    plan.report_mx = patterns;
    tls_plan = std::move(plan);
    for (auto& t : targets) t.tls.reset();  // the per-host fallbacks of level dane give way to the policy
    co_return std::nullopt;
  }
  log::info("mta_sts.testing", {{"domain", j.domain}, {"id", sts.id}, {"note", "policy in testing mode: checked and reported, not enforced"}});
  for (auto& t : targets) {
    TlsPlan p = t.tls ? *t.tls : *tls_plan;
    if (!p.refuse.empty()) continue;
    if (!tls::requires_tls(p.policy.level)) {
      // Checked as enforce would (verify for the MX name) so that the report says what enforce would meet.
      tls::ClientPolicy checked = p.policy;
      checked.level = tls::Level::verify;
      checked.match_names.clear();
      checked.origin = "MTA-STS testing, policy id " + sts.id + " (checked and reported, not enforced)";
      if (auto context = contexts.get(checked)) {
        p.policy = checked;
        p.context = *context;
        p.testing = true;
      }
    }
    p.report_type = "sts";
    p.report_policy = lines;
    p.report_mx = patterns;
    p.report_failure.clear();
    p.report_reason.clear();
    if (!tls::sts_allows_mx(sts.policy, t.name)) {
      p.report_failure = "validation-failure";
      p.report_reason = "MX host " + t.name + " is not listed in the MTA-STS policy (testing: delivered anyway)";
    }
    t.tls = std::move(p);
  }
  co_return std::nullopt;
}

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
                 [done = std::move(done), n](std::exception_ptr e, std::vector<RecipientResult> results) mutable {
                   if (e) results = all(n, Outcome::deferred, "451 4.3.0 internal error during delivery");
                   done(std::move(results));
                 });
}

}  // namespace mailmoat::smtp
