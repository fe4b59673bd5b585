// DKIM verification of a whole message (RFC 6376 section 6, RFC 8301, RFC
// 8463). The message is parsed once: every DKIM-Signature is parsed, its
// header data built and its body hash checked up front (one body pass per
// distinct canonicalization and l=), so the Verification no longer needs the
// message; then the key answers arrive (from any Resolver) and each signature
// gets its own result. Time is injected so x= and t= checks are repeatable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/key_lookup.h"
#include "auth/dkim/result.h"
#include "auth/dkim/signature.h"
#include "dns/resolver.h"
#include "mail/message.h"

namespace mailmoat::auth::dkim {

struct VerifyOptions {
  std::size_t max_signatures = 8;  // more are reported as policy, not verified
  std::int64_t now = 0;            // seconds since the epoch
  std::int64_t allowed_clock_skew = 300;
};

struct SignatureResult {
  Result result = Result::none;
  std::string reason;  // empty on pass
  std::string domain, selector, algorithm, identity;
  std::string header_b;  // the b= value (FWS removed); RFC 6008 uses its first 8+ characters
  bool testing = false;  // key record t=y
  std::optional<std::uint64_t> signed_body_length;  // l=
  std::uint64_t unsigned_body_bytes = 0;  // canonical body bytes past l=
};

class Verification {
 public:
  // The whole message at once: headers, then its body in one pass.
  Verification(const mail::Message& message, const VerifyOptions& options);

  // Streaming, for a body still arriving (SMTP DATA): `headers` is parsed
  // from the header section only (its body is ignored); then feed the body
  // in chunks of any size and call finish_body() before results(). Every
  // distinct (c= body part, l=) gets one BodyHasher, fed once per chunk.
  static Verification from_headers(const mail::Message& headers, const VerifyOptions& options);
  void update_body(std::string_view chunk);
  void finish_body();

  // Distinct key names (TXT) still needed, in signature order.
  std::vector<dns::Question> key_queries() const;
  void add_key_answer(const std::string& name, const dns::Answer& answer);
  // For callers with a key cache: a key already resolved (see key_lookup.h).
  void add_resolved_key(const std::string& name, ResolvedKeyPtr key);
  // One result per DKIM-Signature field, top first. A signature whose key was
  // never answered is temperror.
  std::vector<SignatureResult> results() const;

 private:
  struct Pending {
    SignatureResult early;  // set when the result is known without a key
    std::optional<Signature> signature;
    std::string header_data;
    bool body_hash_ok = false;
    bool body_too_short = false;
  };
  Verification() = default;
  void parse_headers(const mail::Message& message, const VerifyOptions& options);
  SignatureResult finish(const Pending& p) const;

  std::vector<Pending> pending_;
  // Body hashers by (canonicalization, l=); pending_ entries index into them.
  std::vector<std::pair<std::pair<Canon, std::optional<std::uint64_t>>, BodyHasher>> hashers_;
  std::vector<std::size_t> hasher_of_;  // per pending_ entry; SIZE_MAX when none
  bool body_done_ = false;
  std::map<std::string, ResolvedKeyPtr> keys_;
};

// Parses, resolves every key through `resolver` and calls `done` once with
// the results (synchronously if the resolver answers at once). The message
// buffer need only live until this function returns.
void verify(const mail::Message& message, dns::Resolver& resolver, const VerifyOptions& options,
            std::move_only_function<void(std::vector<SignatureResult>)> done);

}  // namespace mailmoat::auth::dkim
