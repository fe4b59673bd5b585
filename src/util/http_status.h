// The status code of an HTTP/1.x response's status line, for the two small blocking clients
// (the CLI's admin-API client and the CAPE sandbox client).
#pragma once

#include <optional>
#include <string_view>

#include "util/strings.h"

namespace mailmoat::util {

// "HTTP/1.1 200 OK" -> 200; nullopt unless the text starts with "HTTP/", a version, one
// space and three digits (100-999).
inline std::optional<int> http_status_code(std::string_view reply) {
  if (!reply.starts_with("HTTP/")) return std::nullopt;
  std::size_t space = reply.find(' ');
  if (space == std::string_view::npos || reply.size() < space + 4) return std::nullopt;
  auto code = parse_uint(reply.substr(space + 1, 3));
  if (!code || *code < 100 || *code > 999) return std::nullopt;
  return static_cast<int>(*code);
}

}  // namespace mailmoat::util
