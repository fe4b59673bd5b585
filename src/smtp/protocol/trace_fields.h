// The Received field a gateway adds (RFC 5321 §4.4, with the "with" keywords
// of RFC 3848 and RFC 6531), the RFC 5322 date it carries, and the hop count
// used for loop detection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mailmoat::smtp {

struct ReceivedInfo {
  std::string helo;
  std::string client_name;  // verified reverse name; empty: unknown
  std::string client_address;
  std::string by_host;
  std::string queue_id;
  bool esmtp = true;
  bool tls = false;
  bool utf8 = false;
  std::string tls_version;
  std::string tls_cipher;
  std::string tls_peer_subject;  // client certificate subject, "" when none was presented
  bool tls_peer_verified = false;
  std::string single_recipient;  // "for <...>" only when there is exactly one
  std::int64_t unix_time = 0;
};

std::string rfc5322_date(std::int64_t unix_time);
// The complete field, folded, ending in CRLF.
std::string received_field(const ReceivedInfo& info);
// Number of Received fields in the header section of `message`.
std::size_t count_received(std::string_view message);

}  // namespace mailmoat::smtp
