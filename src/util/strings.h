// Small string helpers shared by the parsers: ASCII-only case folding and
// trimming (mail protocols are case-insensitive in ASCII only), splitting,
// and checked integer parsing that never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::util {

char ascii_lower(char c);
std::string to_lower(std::string_view s);
void to_lower_in_place(std::string& s);  // ASCII letters only, as to_lower
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
bool icontains(std::string_view s, std::string_view needle);  // ASCII case-insensitive; "" is in everything
// True when any byte is 8-bit (checked a word at a time: it runs over whole messages).
bool has_8bit(std::string_view s);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);
// Parses an unsigned decimal integer that fills all of `s`; nullopt on any
// other character, on an empty string and on overflow.
std::optional<std::uint64_t> parse_uint(std::string_view s);

}  // namespace mailmoat::util
