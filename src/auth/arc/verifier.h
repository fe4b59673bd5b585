// ARC chain validation (RFC 8617 section 5.2). Like DKIM verification it
// runs in two steps: the constructor parses the sets and prepares every
// AMS's header data and body hash and every AS's signed data; key answers
// then arrive from any Resolver, and result() walks the chain: structure and
// cv= values, the newest AMS, the oldest-pass (all AMSes back from the
// newest), then every AS from the newest down. AMS and AS keys obey the same
// RFC 8301 rules as DKIM (no rsa-sha1, RSA at least 1024 bits).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/arc/headers.h"
#include "auth/dkim/key_lookup.h"
#include "auth/dkim/result.h"
#include "dns/resolver.h"
#include "mail/message.h"

namespace mailmoat::auth::arc {

struct ArcInstance {
  int instance = 0;
  std::string ams_domain, ams_selector;  // empty when the AMS did not parse
  std::string seal_domain, seal_selector;
  std::string aar;  // the ARC-Authentication-Results value after "i=N;"
  dkim::Result ams_result = dkim::Result::none;  // evaluated for the newest AMS and back to oldest-pass
  std::string ams_reason;
};

struct ChainResult {
  ChainValidation cv = ChainValidation::none;
  std::string reason;        // why the chain failed
  bool temporary = false;    // the failure came from a DNS error
  int oldest_pass = 0;       // RFC 8617 5.2: 0 when every AMS validates
  std::vector<ArcInstance> instances;  // i=1 first
};

class ChainVerification {
 public:
  explicit ChainVerification(const mail::Message& message);
  std::vector<dns::Question> key_queries() const;
  void add_key_answer(const std::string& name, const dns::Answer& answer);
  ChainResult result() const;

 private:
  struct AmsCheck {
    std::optional<dkim::Signature> signature;
    std::string error, header_data;
    bool body_hash_ok = false;
  };
  struct SealCheck {
    std::optional<Seal> seal;
    std::string error, signed_data;
  };
  std::pair<dkim::Result, std::string> check_ams(const AmsCheck& a) const;
  std::pair<dkim::Result, std::string> check_seal(const SealCheck& s) const;
  std::pair<dkim::Result, std::string> check_signature(const std::string& name, dkim::Algorithm alg,
                                                       const std::string& data, const std::string& sig) const;

  std::string structure_error_;
  std::vector<ArcInstance> instances_;
  std::vector<AmsCheck> ams_;
  std::vector<SealCheck> seals_;
  std::map<std::string, dkim::ResolvedKeyPtr> keys_;
};

// Trusted ARC sealers (a configured list of domains, like EOP's): the newest
// set of a passing chain whose seal d= is in `trusted` (case-insensitive), or
// nullptr. Its AAR holds the results that sealer saw, which DMARC may use to
// override a failure caused by a forwarder (reason "arc").
const ArcInstance* trusted_sealer(const ChainResult& chain, const std::vector<std::string>& trusted);

// Resolves every key through `resolver`, then calls `done` once.
void verify_chain(const mail::Message& message, dns::Resolver& resolver,
                  std::move_only_function<void(ChainResult)> done);

}  // namespace mailmoat::auth::arc
