#include "smtp/protocol/outgoing.h"

#include <cstdio>

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
