// The handshake failure reasons the metrics label with: asio and OpenSSL error
// codes map onto the fixed set, and anything unknown is "other".
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls/handshake.h"

namespace mailmoat::tls {
namespace {

boost::system::error_code ssl_error(int reason) {
  return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), boost::asio::error::get_ssl_category()};
}

TEST(TlsHandshake, FailureReasonsComeFromAFixedSet) {
  EXPECT_EQ(handshake_failure_reason(boost::asio::error::eof, true), "timeout");
  EXPECT_EQ(handshake_failure_reason(boost::asio::error::operation_aborted, false), "timeout");
  EXPECT_EQ(handshake_failure_reason(boost::asio::error::eof, false), "closed");
  EXPECT_EQ(handshake_failure_reason(boost::asio::ssl::error::stream_truncated, false), "closed");
  EXPECT_EQ(handshake_failure_reason(boost::asio::error::connection_reset, false), "closed");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_UNSUPPORTED_PROTOCOL), false), "protocol_version");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_TLSV1_ALERT_PROTOCOL_VERSION), false), "protocol_version");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_NO_SHARED_CIPHER), false), "negotiation");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED), false), "certificate");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_TLSV1_ALERT_UNKNOWN_CA), false), "certificate");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_WRONG_VERSION_NUMBER), false), "not_tls");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_HTTP_REQUEST), false), "not_tls");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_UNEXPECTED_EOF_WHILE_READING), false), "closed");
  EXPECT_EQ(handshake_failure_reason(ssl_error(SSL_R_BAD_PACKET), false), "other");
  EXPECT_EQ(handshake_failure_reason(boost::asio::error::host_unreachable, false), "other");
}

}  // namespace
}  // namespace mailmoat::tls
