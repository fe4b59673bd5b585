// What an SMTP client puts on the wire for a message, as pure functions: the
// DATA payload (RFC 5321 §4.5.2 transparency) as pieces that point into the
// message instead of a stuffed copy, the 8BITMIME test, and RFC 3461 xtext.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::smtp {

// The DATA payload in order: the message with a dot before every line that
// starts with one, a CRLF if the message lacks a last one, then ".\r\n". The
// pieces view `message` and static storage; `message` must outlive them.
std::vector<std::string_view> dot_stuffed(std::string_view message);

// True when any byte is 8-bit (a word at a time: it runs over every message sent).
bool has_8bit(std::string_view s);

// RFC 3461 §4: xtext for ENVID and ORCPT values.
std::string xtext(std::string_view s);

}  // namespace mailmoat::smtp
