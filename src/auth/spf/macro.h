// SPF macro strings (RFC 7208 §7): syntax check and expansion. Expansion is
// pure: the validated client name for %{p} (§7.3, needs DNS) is looked up by
// the evaluator beforehand, only when uses_p_macro() says it is needed.
// c, r and t are explanation-only letters (§7.2); elsewhere they are errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dns/ip_address.h"
#include "util/error.h"

namespace mailmoat::auth::spf {

struct MacroContext {
  std::string sender;      // s: local-part@domain (postmaster@helo for the HELO identity)
  std::string local_part;  // l
  std::string sender_domain;  // o
  std::string domain;      // d: the current <domain>
  dns::IpAddress ip;       // i, c, v
  std::string helo;        // h
  std::string receiver;    // r
  std::string validated_name = "unknown";  // p
  std::int64_t now = 0;    // t
};

enum class MacroUse { domain, explanation };

util::Result<void> check_macro_string(std::string_view text, MacroUse use);
// A domain-spec: a macro string ending in "." toplabel [ "." ] or a macro.
util::Result<void> check_domain_spec(std::string_view text);
bool uses_p_macro(std::string_view text);

// Expands a checked macro string. For MacroUse::domain the result has any
// trailing dot removed and is cut to 253 octets by dropping left labels (§7.3).
util::Result<std::string> expand(std::string_view text, const MacroContext& ctx, MacroUse use);

}  // namespace mailmoat::auth::spf
