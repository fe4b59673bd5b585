#include "tls/handshake.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <initializer_list>

namespace mailmoat::tls {

namespace {

bool one_of(int reason, std::initializer_list<int> reasons) {
  for (int r : reasons)
    if (r == reason) return true;
  return false;
}

std::string openssl_reason(int reason) {
  if (one_of(reason, {SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, SSL_R_NO_PROTOCOLS_AVAILABLE,
                      SSL_R_VERSION_TOO_LOW, SSL_R_VERSION_TOO_HIGH, SSL_R_TLSV1_ALERT_INAPPROPRIATE_FALLBACK}))
    return "protocol_version";
  if (one_of(reason, {SSL_R_NO_SHARED_CIPHER, SSL_R_NO_SHARED_GROUPS, SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM,
                      SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE, SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY}))
    return "negotiation";
  if (one_of(reason, {SSL_R_CERTIFICATE_VERIFY_FAILED, SSL_R_SSLV3_ALERT_BAD_CERTIFICATE, SSL_R_TLSV1_ALERT_UNKNOWN_CA,
                      SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED, SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN,
                      SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED, SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE,
                      SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED}))
    return "certificate";
  // Bytes that are not a TLS record: a client that said STARTTLS and went on in clear.
  if (one_of(reason, {SSL_R_WRONG_VERSION_NUMBER, SSL_R_HTTP_REQUEST, SSL_R_HTTPS_PROXY_REQUEST,
                      SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_UNKNOWN_PROTOCOL, SSL_R_RECORD_LENGTH_MISMATCH,
                      SSL_R_UNEXPECTED_RECORD, SSL_R_UNEXPECTED_MESSAGE}))
    return "not_tls";
  if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) return "closed";
  return "other";
}

}  // namespace

std::string handshake_failure_reason(const boost::system::error_code& ec, bool timed_out) {
  namespace error = boost::asio::error;
  if (timed_out || ec == error::operation_aborted || ec == error::timed_out) return "timeout";
  if (ec == error::eof || ec == boost::asio::ssl::error::stream_truncated || ec == error::connection_reset ||
      ec == error::broken_pipe || ec == error::bad_descriptor)
    return "closed";
  if (ec.category() == error::get_ssl_category()) return openssl_reason(ERR_GET_REASON(static_cast<unsigned long>(ec.value())));
  return "other";
}

}  // namespace mailmoat::tls
