// Turns the DNS answer for <selector>._domainkey.<domain> into a usable
// public key (RFC 6376 6.1.2, RFC 8301 3.2) in two steps: resolve_key()
// parses the record and loads the key once per answer (callers may cache
// the result: loading an RSA key costs more than verifying with it), and
// check_key_for() applies the cheap per-signature rules. DNS failures are
// temperror; no record, a bad or revoked record, a key that does not fit the
// signature's algorithm or is too short are permerror.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "auth/dkim/crypto.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "dns/types.h"

namespace mailmoat::auth::dkim {

struct ResolvedKey {
  Result result = Result::pass;  // pass: the record parsed and its key loaded
  std::string reason;
  KeyRecord record;
  PublicKey key;
};
using ResolvedKeyPtr = std::shared_ptr<const ResolvedKey>;

ResolvedKeyPtr resolve_key(const dns::Answer& answer, std::string_view name);

struct KeyOutcome {
  Result result = Result::pass;  // pass: the key may verify this signature
  std::string reason;
  const ResolvedKey* key = nullptr;
};

// `identity_domain`: the domain of i= (DKIM) for the t=s check, or "" to skip.
KeyOutcome check_key_for(const ResolvedKey& key, Algorithm algorithm, std::string_view signing_domain,
                         std::string_view identity_domain);

}  // namespace mailmoat::auth::dkim
