// What an SMTP client puts on the wire for a message, as pure functions: the
// DATA payload (RFC 5321 §4.5.2 transparency) as pieces that point into the
// message instead of a stuffed copy, and RFC 3461 xtext. (The 8BITMIME test is
// util::has_8bit.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::smtp {

// The DATA payload in order: the message with a dot before every line that
// starts with one, a CRLF if the message lacks a last one, then ".\r\n". The
// pieces view `message` and static storage; `message` must outlive them.
std::vector<std::string_view> dot_stuffed(std::string_view message);

// RFC 3461 §4: xtext for ENVID and ORCPT values.
std::string xtext(std::string_view s);

}  // namespace mailmoat::smtp
