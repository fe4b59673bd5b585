// Verification outcomes in the words of RFC 8601 section 2.7.1, shared by
// DKIM signatures and ARC's per-signature checks.
#pragma once

#include <string_view>

namespace mailmoat::auth::dkim {

enum class Result { none, pass, fail, policy, neutral, temperror, permerror };

constexpr std::string_view result_name(Result r) {
  switch (r) {
    case Result::none: return "none";
    case Result::pass: return "pass";
    case Result::fail: return "fail";
    case Result::policy: return "policy";
    case Result::neutral: return "neutral";
    case Result::temperror: return "temperror";
    case Result::permerror: return "permerror";
  }
  return "none";
}

}  // namespace mailmoat::auth::dkim
