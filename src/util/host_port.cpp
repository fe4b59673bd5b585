#include "util/host_port.h"

#include <arpa/inet.h>

#include "util/strings.h"

namespace mailmoat::util {

Result<HostPort> parse_host_port(std::string_view s) {
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      return fail("expected [ipv6]:port");
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
    in6_addr a6;
    if (inet_pton(AF_INET6, hp.host.c_str(), &a6) != 1) return fail("\"" + hp.host + "\" is not an IPv6 address");
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return fail("expected address:port");
    hp.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (hp.host == "localhost") hp.host = "127.0.0.1";
    in_addr a4;
    if (inet_pton(AF_INET, hp.host.c_str(), &a4) != 1) return fail("\"" + hp.host + "\" is not an IPv4 address");
  }
  auto p = parse_uint(port);
  if (!p || *p > 65535) return fail("bad port \"" + std::string(port) + "\"");
  hp.port = static_cast<std::uint16_t>(*p);
  return hp;
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return "[" + std::string(host) + "]:" + std::to_string(port);
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace mailmoat::util
