#include "tls/mta_sts.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "util/strings.h"

namespace mailmoat::tls {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using asio::awaitable;
using asio::use_awaitable;

namespace {

// Waits for a Resolver answer on the awaiting coroutine's executor (a function
// object, not a lambda in the frame: g++ 12, docs/decisions.md).
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

}  // namespace

MtaSts::MtaSts(dns::Resolver& resolver, const std::string& ca_file, Clock clock, std::uint16_t https_port,
               std::chrono::seconds timeout)
    : resolver_(resolver), context_(std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client)),
      clock_(std::move(clock)), port_(https_port), timeout_(timeout) {
  SSL_CTX* native = context_->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (ca_file.empty()) SSL_CTX_set_default_verify_paths(native);
  else SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr);
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
}

MtaSts::~MtaSts() = default;

std::optional<MtaSts::Cached> MtaSts::cached(const std::string& domain) const {
  std::lock_guard lock(mu_);
  auto it = cache_.find(domain);
  if (it == cache_.end() || it->second.expires <= clock_()) return std::nullopt;
  return it->second;
}

// A failed fetch says why and which RFC 8460 result type that is: the policy
// host's certificate not verifying is sts-webpki-invalid, anything else on the
// way to a 200 text/plain answer (no address, connect, timeout, HTTP status)
// sts-policy-fetch-error.
// cppcheck-suppress passedByValue ; a coroutine keeps its own copy across suspensions
awaitable<MtaSts::Fetched> MtaSts::fetch(std::string domain, std::string address) {
  const std::string host = "mta-sts." + domain;
  const std::string fetch_error = "sts-policy-fetch-error";
  Fetched out;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) {
    out = {{}, "bad address " + address, fetch_error};
    co_return out;
  }
  auto ex = co_await asio::this_coro::executor;
  beast::ssl_stream<beast::tcp_stream> stream(ex, *context_);
  SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
  SSL_set1_host(stream.native_handle(), host.c_str());  // RFC 8461 §3.3: the certificate must be for this name
  beast::get_lowest_layer(stream).expires_after(timeout_);
  asio::ip::tcp::endpoint endpoint(ip, port_);
  auto [cec] = co_await beast::get_lowest_layer(stream).async_connect(endpoint, asio::as_tuple(use_awaitable));
  if (cec) {
    out = {{}, "cannot connect to " + host + " [" + address + "]: " + cec.message(), fetch_error};
    co_return out;
  }
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(use_awaitable));
  if (hec) {
    long verify = SSL_get_verify_result(stream.native_handle());
    std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : hec.message();
    out = {{}, "TLS with " + host + " failed: " + why, verify != X509_V_OK ? "sts-webpki-invalid" : fetch_error};
    co_return out;
  }
  http::request<http::empty_body> request(http::verb::get, "/.well-known/mta-sts.txt", 11);
  request.set(http::field::host, host);
  request.set(http::field::user_agent, "mailmoat");
  auto [wec, wn] = co_await http::async_write(stream, request, asio::as_tuple(use_awaitable));
  if (wec) {
    out = {{}, "request to " + host + " failed: " + wec.message(), fetch_error};
    co_return out;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxStsPolicySize);
  auto [rec, rn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(use_awaitable));
  if (rec) {
    out = {{}, "reading the policy from " + host + " failed: " + rec.message(), fetch_error};
    co_return out;
  }
  const auto& response = parser.get();
  // §3.3: no redirects; the policy is text/plain.
  if (response.result_int() != 200) {
    out = {{}, host + " answered HTTP " + std::to_string(response.result_int()), fetch_error};
    co_return out;
  }
  std::string type(response[http::field::content_type]);
  if (!util::istarts_with(type, "text/plain")) {
    out = {{}, host + " served " + type + ", not text/plain", "sts-policy-invalid"};
    co_return out;
  }
  out.body = response.body();
  co_return out;
}

awaitable<StsLookup> MtaSts::lookup(std::string domain_in) {
  const std::string domain = util::to_lower(domain_in);
  StsLookup out;
  std::optional<Cached> held = cached(domain);
  dns::Question txt_question{"_mta-sts." + domain, dns::RecordType::txt};
  dns::Answer txt = co_await resolve(resolver_, std::move(txt_question));
  auto id = txt.status == dns::Status::ok ? select_sts_record(txt.txt) : util::Result<std::string>(util::fail("no TXT record"));
  if (!id || (held && held->id == *id)) {
    if (held) {
      out = {true, held->policy, held->id, "cached policy id " + held->id, {}};
      co_return out;
    }
    out.note = "no MTA-STS policy: " + id.error().message;
    co_return out;
  }
  dns::Question a_question{"mta-sts." + domain, dns::RecordType::a};
  dns::Answer a = co_await resolve(resolver_, std::move(a_question));
  Fetched body{{}, "mta-sts." + domain + " has no address", "sts-policy-fetch-error"};
  for (const auto& address : a.addresses) {
    std::string target = address;
    body = co_await fetch(domain, std::move(target));
    if (body.failure.empty()) break;
  }
  auto policy = body.failure.empty() ? parse_sts_policy(body.body) : util::Result<StsPolicy>(util::fail(body.error));
  if (!policy) {
    if (held) {
      out = {true, held->policy, held->id, "fetch failed (" + policy.error().message + "), cached policy id " + held->id, {}};
      co_return out;
    }
    out.note = "no MTA-STS policy: " + policy.error().message;
    out.id = *id;
    out.failure = body.failure.empty() ? "sts-policy-invalid" : body.failure;
    co_return out;
  }
  {
    std::lock_guard lock(mu_);
    cache_[domain] = Cached{*id, *policy, clock_() + policy->max_age};
  }
  out = {true, *policy, *id, "fetched policy id " + *id, {}};
  co_return out;
}

}  // namespace mailmoat::tls
