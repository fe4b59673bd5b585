// Turns the DNS answer for <selector>._domainkey.<domain> into a usable
// public key for one signature (RFC 6376 6.1.2, RFC 8301 3.2): DNS failures
// are temperror; no record, a bad record, a revoked key, a key that does not
// fit the signature's algorithm or is too short are permerror.
#pragma once

#include <string>
#include <string_view>

#include "auth/dkim/crypto.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "dns/types.h"

namespace mailmoat::auth::dkim {

struct KeyOutcome {
  Result result = Result::pass;  // pass: the key is usable
  std::string reason;
  KeyRecord record;
  PublicKey key;
};

// `identity_domain`: the domain of i= (DKIM) for the t=s check, or "" to skip.
KeyOutcome evaluate_key_answer(const dns::Answer& answer, std::string_view name, Algorithm algorithm,
                               std::string_view signing_domain, std::string_view identity_domain);

}  // namespace mailmoat::auth::dkim
