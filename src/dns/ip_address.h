// IPv4 and IPv6 addresses as values for SPF (RFC 7208 §5.6 CIDR matching),
// iprev and the reverse-DNS names of RFC 1035 §3.5 / RFC 3596 §2.5.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are folded to IPv4 on parse,
// because SPF evaluates them as the IPv4 client they are (RFC 7208 §5).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mailmoat::dns {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);
  std::string to_string() const;  // canonical text: dotted quad or RFC 5952 form
  // "4.3.2.1.in-addr.arpa" or the nibble "...ip6.arpa" name, no trailing dot.
  std::string reverse_name() const;
  // The first `prefix` bits equal (same family required).
  bool in_network(const IpAddress& network, unsigned prefix) const;
  bool operator==(const IpAddress&) const = default;
};

}  // namespace mailmoat::dns
