// The TCP stream of an outbound SMTP session, upgraded in place by STARTTLS
// (RFC 3207): reads and writes go through TLS once the handshake is done, so
// the conversation code is the same before and after.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <memory>
#include <string>

#include "tls/client_context.h"
#include "tls/dane.h"

namespace mailmoat::smtp {

class ClientStream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  explicit ClientStream(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {}
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  void close(boost::system::error_code& ec) { socket_.close(ec); }
  bool tls_active() const { return tls_ != nullptr; }
  std::string local_address() const {
    boost::system::error_code ec;
    auto ep = socket_.local_endpoint(ec);
    return ec ? std::string() : ep.address().to_string();
  }
  SSL* native_handle() { return tls_ ? tls_->native_handle() : nullptr; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Token>(token));
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Token>(token));
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  // The client side of the handshake; `server_name` goes in SNI unless it is an address.
  // `tlsa`: DANE records for this host (RFC 7672), armed before the handshake; `dane_error` says why arming failed.
  // `dane_alt_name`: a second DANE-TA reference identifier (the original MX name of a CNAME, RFC 7672 §2.2.2).
  boost::asio::awaitable<boost::system::error_code> start_tls(std::shared_ptr<tls::ClientContext> context,
                                                              std::string server_name,
                                                              const std::vector<dns::TlsaRecord>* tlsa = nullptr,
                                                              std::string* dane_error = nullptr,
                                                              std::string dane_alt_name = {}) {
    context_ = std::move(context);
    tls_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>>(socket_, context_->context());
    boost::system::error_code ec;
    boost::asio::ip::make_address(server_name, ec);
    if (ec && !server_name.empty()) SSL_set_tlsext_host_name(tls_->native_handle(), server_name.c_str());
    if (tlsa) {
      std::string why = tls::arm_dane(tls_->native_handle(), *tlsa, server_name, dane_alt_name);
      if (!why.empty()) {
        if (dane_error) *dane_error = why;
        co_return boost::asio::error::make_error_code(boost::asio::error::operation_not_supported);
      }
    }
    auto [hec] = co_await tls_->async_handshake(boost::asio::ssl::stream_base::client,
                                                boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return hec;
  }

 private:
  boost::asio::ip::tcp::socket socket_;
  std::shared_ptr<tls::ClientContext> context_;  // outlives the TLS stream using it
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace mailmoat::smtp
