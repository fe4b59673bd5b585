// MTA-STS (RFC 8461) text formats: the `_mta-sts` TXT record (§3.1) and the
// policy file served at https://mta-sts.<domain>/.well-known/mta-sts.txt
// (§3.2), and MX pattern matching (§4.1: a wildcard is the whole left-most
// label and covers exactly one label). Pure: bytes in, values or a reason
// out. Unknown fields are ignored; a repeated field other than mx keeps its
// first value. Not yet used by delivery (docs/tls.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::tls {

enum class StsMode { enforce, testing, none };

struct StsPolicy {
  StsMode mode = StsMode::none;
  std::vector<std::string> mx;  // patterns, lower case
  std::uint32_t max_age = 0;    // seconds, at most 31557600
};

inline constexpr std::size_t kMaxStsPolicySize = std::size_t{64} * 1024;

// The id of a valid "v=STSv1; id=...;" record.
util::Result<std::string> parse_sts_record(std::string_view txt);
// Of all TXT strings at _mta-sts.<domain>: exactly one must start with "v=STSv1".
util::Result<std::string> select_sts_record(const std::vector<std::string>& txts);

util::Result<StsPolicy> parse_sts_policy(std::string_view body);

// Does an MX host name match a policy's mx pattern?
bool sts_mx_matches(std::string_view pattern, std::string_view host);
bool sts_allows_mx(const StsPolicy& policy, std::string_view host);

}  // namespace mailmoat::tls
