#include "util/cookie.h"

#include "util/strings.h"

namespace mailmoat::util {

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
  for (auto part : split(header, ';')) {
    auto p = trim(part);
    auto eq = p.find('=');
    if (eq != std::string_view::npos && trim(p.substr(0, eq)) == name) return trim(p.substr(eq + 1));
  }
  return std::nullopt;
}

}  // namespace mailmoat::util
