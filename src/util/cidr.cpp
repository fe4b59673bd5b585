#include "util/cidr.h"

#include <arpa/inet.h>

#include <string>

#include "util/strings.h"

namespace mailmoat::util {

namespace {

bool to_bytes(std::string_view ip, bool& v6, std::array<std::uint8_t, 16>& out) {
  std::string s(ip);
  // An IPv4-mapped IPv6 client address matches IPv4 networks.
  if (s.starts_with("::ffff:") && s.find('.') != std::string::npos) s = s.substr(7);
  out.fill(0);
  if (inet_pton(AF_INET, s.c_str(), out.data()) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out.data()) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

}  // namespace

Result<Network> parse_network(std::string_view text) {
  Network n;
  auto slash = text.find('/');
  if (!to_bytes(text.substr(0, slash), n.v6, n.address)) return fail("\"" + std::string(text) + "\" is not an IP network");
  unsigned max = n.v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    auto len = parse_uint(text.substr(slash + 1));
    if (!len || *len > max) return fail("\"" + std::string(text) + "\" has a bad prefix length");
    n.prefix = static_cast<unsigned>(*len);
  }
  return n;
}

bool Network::contains(std::string_view ip) const {
  bool ip_v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  if (!to_bytes(ip, ip_v6, bytes) || ip_v6 != v6) return false;
  unsigned full = prefix / 8, rest = prefix % 8;
  for (unsigned i = 0; i < full; ++i)
    if (bytes[i] != address[i]) return false;
  if (rest == 0) return true;
  auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes[full] & mask) == (address[full] & mask);
}

bool any_contains(const std::vector<Network>& networks, std::string_view ip) {
  for (const auto& n : networks)
    if (n.contains(ip)) return true;
  return false;
}

}  // namespace mailmoat::util
