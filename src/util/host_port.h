// "address:port" and "[ipv6]:port" as written in configuration, split into
// a numeric address and a port. "localhost" means 127.0.0.1: listeners bind
// addresses, never names, so a listener never depends on DNS.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.h"

namespace mailmoat::util {

struct HostPort {
  std::string host;  // numeric IPv4 or IPv6 address, without brackets
  std::uint16_t port = 0;
};

Result<HostPort> parse_host_port(std::string_view text);
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace mailmoat::util
