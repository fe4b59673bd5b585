// The three ARC header fields (RFC 8617 section 4.1) and their grouping into
// numbered sets (4.2): ARC-Authentication-Results must begin "i=N;", the
// ARC-Message-Signature is a DKIM signature with i= instead of v= and no
// From requirement, and the ARC-Seal has i, a, b, cv, d, s (t optional) and
// must not have h=. Any structural problem makes the chain fail (5.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/signature.h"
#include "mail/message.h"
#include "util/error.h"

namespace mailmoat::auth::arc {

constexpr int kMaxInstances = 50;

enum class ChainValidation { none, pass, fail };
std::string_view cv_name(ChainValidation cv);

struct Seal {
  int instance = 0;
  ChainValidation cv = ChainValidation::none;
  dkim::Algorithm algorithm = dkim::Algorithm::rsa_sha256;
  std::string signature, domain, selector;
  std::optional<std::uint64_t> timestamp;
};

// i= of an ARC-Authentication-Results value ("i=1; authserv-id; ...").
util::Result<int> parse_aar_instance(std::string_view value);
// An ARC-Message-Signature value; `instance` receives its i=.
util::Result<dkim::Signature> parse_message_signature(std::string_view value, int& instance);
util::Result<Seal> parse_seal(std::string_view value);

struct ArcSetFields {
  int instance = 0;
  const mail::HeaderField* aar = nullptr;
  const mail::HeaderField* ams = nullptr;
  const mail::HeaderField* seal = nullptr;
};

// All ARC sets by instance (index 0 is i=1); empty when the message has no
// ARC fields; an error when instances are missing, duplicated, malformed or
// more than 50.
util::Result<std::vector<ArcSetFields>> collect_sets(const mail::Message& message);

}  // namespace mailmoat::auth::arc
