// Parser for RFC 1035 §5 master files: $ORIGIN, $TTL, "@", relative names,
// blank owners (the previous owner), TTL and class in either order,
// parentheses across lines, ";" comments, quoted strings and \X / \DDD escapes.
// It yields entries with raw rdata tokens; ZoneResolver::load interprets the
// types it serves. $INCLUDE is refused: a zone is one self-contained file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::dns {

struct ZoneEntry {
  std::string owner;               // absolute, lower case, no trailing dot
  std::uint32_t ttl = 0;
  std::string type;                // upper case, e.g. "TXT"
  std::vector<std::string> rdata;  // tokens with quotes removed and escapes applied
  std::string origin;              // $ORIGIN in effect, for relative names in rdata
  int line = 0;
};

// Errors read "SOURCE:LINE: reason".
util::Result<std::vector<ZoneEntry>> parse_master_file(std::string_view text,
                                                       std::string_view origin,
                                                       std::string_view source,
                                                       std::uint32_t default_ttl = 3600);

// Resolves `name` against `origin` as a master file does: "@" is the origin,
// a name ending in "." is absolute, anything else is relative.
std::string absolute_name(std::string_view name, std::string_view origin);

}  // namespace mailmoat::dns
