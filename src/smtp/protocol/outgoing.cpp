#include "smtp/protocol/outgoing.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace mailmoat::smtp {

std::vector<std::string_view> dot_stuffed(std::string_view message) {
  static constexpr std::string_view kDot = ".";
  static constexpr std::string_view kEnd = "\r\n.\r\n";
  std::vector<std::string_view> out;
  std::size_t from = 0;
  if (message.starts_with('.')) out.push_back(kDot);
  for (std::size_t nl = message.find("\n."); nl != std::string_view::npos; nl = message.find("\n.", nl + 1)) {
    out.push_back(message.substr(from, nl + 1 - from));
    out.push_back(kDot);
    from = nl + 1;
  }
  out.push_back(message.substr(from));
  out.push_back(message.ends_with("\r\n") ? kEnd.substr(2) : kEnd);
  return out;
}

bool has_8bit(std::string_view s) {
  const char* p = s.data();
  std::size_t left = s.size();
  for (; left >= 8; p += 8, left -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    if (word & 0x8080808080808080ull) return true;
  }
  for (; left > 0; ++p, --left)
    if (static_cast<unsigned char>(*p) >= 0x80) return true;
  return false;
}

std::string xtext(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      char buf[4];
      (void)std::snprintf(buf, sizeof buf, "+%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace mailmoat::smtp
