// IP networks ("192.0.2.0/24", "2001:db8::/32", or a bare address) and
// membership tests, for relay networks and connection policy.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::util {

struct Network {
  bool v6 = false;
  std::array<std::uint8_t, 16> address{};
  unsigned prefix = 0;
  bool contains(std::string_view ip) const;
};

Result<Network> parse_network(std::string_view text);
bool any_contains(const std::vector<Network>& networks, std::string_view ip);

}  // namespace mailmoat::util
