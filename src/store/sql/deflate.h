// zlib (RFC 1950) compression of quarantined messages: mail compresses 3-10x
// and quarantine keeps every message for 30 days. inflate() refuses output
// beyond a limit so a corrupt or hostile row cannot exhaust memory.
#pragma once

#include <string>
#include <string_view>

#include "util/error.h"

namespace mailmoat::store::sql {

std::string deflate_bytes(std::string_view input);
util::Result<std::string> inflate_bytes(std::string_view input, std::size_t max_output = std::size_t{1} << 30);

}  // namespace mailmoat::store::sql
