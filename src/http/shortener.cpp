#include "http/shortener.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <memory>
#include <optional>

#include "links/url.h"

namespace mailmoat::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = std::size_t{16} * 1024;

struct Answer {
  unsigned status = 0;
  std::string location;
};

// One request on a fresh connection; every step is asynchronous on a private
// io_context so that run_for() bounds the whole exchange, DNS included.
class Exchange {
 public:
  Exchange(const links::UrlParts& url, bool head, std::chrono::milliseconds timeout)
      : url_(url), head_(head), timeout_(timeout), resolver_(io_), tls_ctx_(asio::ssl::context::tls_client) {}

  util::Result<Answer> run() {
    const bool https = url_.scheme == "https";
    std::string port = url_.port.empty() ? (https ? "443" : "80") : url_.port;
    if (https) {
      tls_ctx_.set_default_verify_paths();
      tls_ctx_.set_verify_mode(asio::ssl::verify_peer);
      tls_ctx_.set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io_, tls_ctx_);
      if (!SSL_set_tlsext_host_name(tls_->native_handle(), url_.host.c_str()))
        return util::fail("TLS: cannot set the server name");
      tls_->set_verify_callback(asio::ssl::host_name_verification(url_.host));
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(io_);
    }
    resolver_.async_resolve(url_.host, port, [this](beast::error_code ec, const tcp::resolver::results_type& found) {
      if (ec) return finish("cannot resolve " + url_.host + ": " + ec.message());
      lowest().async_connect(found, [this](beast::error_code e, const tcp::endpoint&) { connected(e); });
    });
    io_.run_for(timeout_);
    if (!outcome_) return util::fail("no answer from " + url_.host + " within " + std::to_string(timeout_.count()) + " ms");
    if (!error_.empty()) return util::fail(error_);
    return *outcome_;
  }

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

  void connected(beast::error_code ec) {
    if (ec) return finish("cannot connect to " + url_.host + ": " + ec.message());
    if (!tls_) return send();
    tls_->async_handshake(asio::ssl::stream_base::client, [this](beast::error_code e) {
      if (e) return finish("TLS with " + url_.host + " failed: " + e.message());
      send();
    });
  }

  void send() {
    request_.method(head_ ? bhttp::verb::head : bhttp::verb::get);
    request_.target(url_.path_and_query.empty() ? "/" : url_.path_and_query);
    request_.version(11);
    std::string host = url_.host.find(':') != std::string::npos ? "[" + url_.host + "]" : url_.host;
    request_.set(bhttp::field::host, url_.port.empty() ? host : host + ":" + url_.port);
    request_.set(bhttp::field::user_agent, "mailmoat-link-check");
    request_.set(bhttp::field::connection, "close");
    auto on_written = [this](beast::error_code e, std::size_t) {
      if (e) return finish("cannot send to " + url_.host + ": " + e.message());
      parser_.header_limit(kHeaderLimit);
      if (head_) parser_.skip(true);
      auto on_header = [this](beast::error_code r, std::size_t) {
        if (r) return finish("unreadable answer from " + url_.host + ": " + r.message());
        Answer a;
        a.status = parser_.get().result_int();
        if (auto it = parser_.get().find(bhttp::field::location); it != parser_.get().end())
          a.location = std::string(it->value());
        outcome_ = std::move(a);
        io_.stop();
      };
      if (tls_) bhttp::async_read_header(*tls_, buffer_, parser_, on_header);
      else bhttp::async_read_header(*plain_, buffer_, parser_, on_header);
    };
    if (tls_) bhttp::async_write(*tls_, request_, on_written);
    else bhttp::async_write(*plain_, request_, on_written);
  }

  void finish(std::string error) {
    error_ = std::move(error);
    outcome_ = Answer{};
    io_.stop();
  }

  links::UrlParts url_;
  bool head_;
  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  tcp::resolver resolver_;
  asio::ssl::context tls_ctx_;
  std::unique_ptr<beast::tcp_stream> plain_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  bhttp::request<bhttp::empty_body> request_;
  beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::empty_body> parser_;
  std::optional<Answer> outcome_;
  std::string error_;
};

}  // namespace

util::Result<std::string> shortener_destination(const std::string& url, std::chrono::milliseconds timeout) {
  auto parts = links::parse_url(url);
  if (!parts) return util::fail("not a URL: " + parts.error().message);
  if (parts->scheme != "http" && parts->scheme != "https") return util::fail("not an http or https link");
  const auto started = std::chrono::steady_clock::now();
  auto answer = Exchange(*parts, true, timeout).run();
  // Some shorteners refuse HEAD; ask again with GET (only the header is read) in the time left.
  if (answer && (answer->status == 405 || answer->status == 501)) {
    auto left = timeout - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (left.count() <= 0) return util::fail("no answer from " + parts->host + " within " + std::to_string(timeout.count()) + " ms");
    answer = Exchange(*parts, false, left).run();
  }
  if (!answer) return util::fail(answer.error().message);
  if (answer->status < 300 || answer->status > 399 || answer->status == 304)
    return util::fail(parts->host + " answered " + std::to_string(answer->status) + ", not a redirect");
  if (answer->location.empty()) return util::fail(parts->host + " answered a redirect without a Location");
  auto resolved = links::resolve_reference(url, answer->location);
  if (!resolved) return util::fail("the Location is not a URL: " + resolved.error().message);
  // Only a web address is judged and, when allowed, redirected to (never javascript:, data:, file:...).
  if (!links::is_web_url(*resolved)) return util::fail(parts->host + " leads to a non-web address");
  return *resolved;
}

}  // namespace mailmoat::http
