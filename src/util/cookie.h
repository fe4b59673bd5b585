// Reading one cookie from a Cookie request header (RFC 6265 §4.2.1:
// "name=value" pairs separated by ';' and optional spaces). Pure string
// handling; the value is returned as sent (cookies set by mailmoat are hex).
#pragma once

#include <optional>
#include <string_view>

namespace mailmoat::util {

// The value of the first cookie called `name` in `header`, or nothing.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

}  // namespace mailmoat::util
