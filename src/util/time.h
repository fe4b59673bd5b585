// Dates in the form mail header fields use (RFC 5322 section 3.3), always in
// UTC, from an injected time: callers pass the clock's reading, never read it here.
#pragma once

#include <cstdint>
#include <string>

namespace mailmoat::util {

// "Sat, 28 Nov 2026 14:42:46 +0000"
std::string rfc5322_date(std::int64_t unix_seconds);

}  // namespace mailmoat::util
