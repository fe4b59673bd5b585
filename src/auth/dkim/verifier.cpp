#include "auth/dkim/verifier.h"

#include "auth/dkim/resolve_keys.h"

#include <cstdint>
#include <memory>
#include <tuple>

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/crypto.h"
#include "auth/dkim/header_hash.h"
#include "auth/dkim/key_lookup.h"

namespace mailmoat::auth::dkim {
namespace {

// Checks that need no key: algorithm policy and the clock.
std::optional<std::pair<Result, std::string>> early_checks(const Signature& s, const VerifyOptions& o) {
  if (s.algorithm == Algorithm::rsa_sha1)
    return std::pair{Result::permerror, std::string("rsa-sha1 is not accepted (RFC 8301 section 3.1)")};
  if (s.expiration && static_cast<std::int64_t>(*s.expiration) < o.now)
    return std::pair{Result::permerror, std::string("signature expired (x=)")};
  if (s.timestamp && static_cast<std::int64_t>(*s.timestamp) > o.now + o.allowed_clock_skew)
    return std::pair{Result::permerror, std::string("signature timestamp t= is in the future")};
  return std::nullopt;
}

SignatureResult describe(const Signature& s) {
  SignatureResult r;
  r.domain = s.domain;
  r.selector = s.selector;
  r.algorithm = std::string(algorithm_name(s.algorithm));
  r.identity = s.identity;
  r.header_b = s.header_b;
  r.signed_body_length = s.length;
  return r;
}

// A permerror for a field that did not parse, naming d= and s= when it can.
SignatureResult describe_unparsable(std::string_view value, std::string reason) {
  SignatureResult r;
  r.result = Result::permerror;
  r.reason = std::move(reason);
  if (auto tags = TagList::parse(value)) {
    if (auto d = tags->value("d")) r.domain = std::string(*d);
    if (auto s = tags->value("s")) r.selector = std::string(*s);
  }
  return r;
}

}  // namespace

Verification::Verification(const mail::Message& message, const VerifyOptions& options) {
  parse_headers(message, options);
  update_body(message.body());
  finish_body();
}

Verification Verification::from_headers(const mail::Message& headers, const VerifyOptions& options) {
  Verification v;
  v.parse_headers(headers, options);
  return v;
}

void Verification::parse_headers(const mail::Message& message, const VerifyOptions& options) {
  std::size_t verified = 0;
  for (const mail::HeaderField* field : message.find_all("DKIM-Signature")) {
    Pending p;
    std::size_t hasher = SIZE_MAX;
    auto sig = parse_signature(field->value);
    if (!sig) {
      p.early = describe_unparsable(field->value, sig.error().message);
    } else if (p.early = describe(*sig); auto e = early_checks(*sig, options)) {
      std::tie(p.early.result, p.early.reason) = *e;
    } else if (++verified > options.max_signatures) {
      p.early.result = Result::policy;
      p.early.reason = "not verified: more than " + std::to_string(options.max_signatures) + " signatures";
    } else {
      // One hasher per distinct (c= body part, l=), shared by the signatures.
      auto key = std::pair{sig->body_canon, sig->length};
      for (hasher = 0; hasher < hashers_.size() && hashers_[hasher].first != key; ++hasher) {
      }
      if (hasher == hashers_.size()) hashers_.emplace_back(key, BodyHasher(sig->body_canon, sig->length));
      p.header_data = signed_header_data(message, sig->signed_headers, sig->header_canon, field_without_b(*field, *sig));
      p.signature = std::move(*sig);
    }
    pending_.push_back(std::move(p));
    hasher_of_.push_back(hasher);
  }
}

void Verification::update_body(std::string_view chunk) {
  for (auto& [key, hasher] : hashers_) hasher.update(chunk);
}

void Verification::finish_body() {
  if (body_done_) return;
  body_done_ = true;
  std::vector<std::string> digests;
  digests.reserve(hashers_.size());
  for (auto& [key, hasher] : hashers_) digests.push_back(hasher.finish());
  for (std::size_t i = 0; i < pending_.size(); ++i) {
    if (hasher_of_[i] == SIZE_MAX) continue;
    Pending& p = pending_[i];
    const BodyHasher& h = hashers_[hasher_of_[i]].second;
    p.body_hash_ok = digests[hasher_of_[i]] == p.signature->body_hash;
    p.body_too_short = p.signature->length && *p.signature->length > h.canonical_length();
    p.early.unsigned_body_bytes = h.canonical_length() - h.hashed_length();
  }
}

std::vector<dns::Question> Verification::key_queries() const {
  std::vector<dns::Question> out;
  for (const auto& p : pending_) {
    if (!p.signature) continue;
    std::string name = p.signature->key_query_name();
    bool dup = keys_.count(name) > 0;
    for (const auto& q : out) dup = dup || q.name == name;
    if (!dup) out.push_back({name, dns::RecordType::txt});
  }
  return out;
}

void Verification::add_key_answer(const std::string& name, const dns::Answer& answer) {
  keys_[name] = resolve_key(answer, name);
}

void Verification::add_resolved_key(const std::string& name, ResolvedKeyPtr key) { keys_[name] = std::move(key); }

SignatureResult Verification::finish(const Pending& p) const {
  SignatureResult r = p.early;
  if (!p.signature) return r;
  if (!body_done_) {
    r.result = Result::temperror;
    r.reason = "the body was not finished (finish_body)";
    return r;
  }
  const Signature& s = *p.signature;
  std::string name = s.key_query_name();
  auto it = keys_.find(name);
  if (it == keys_.end() || !it->second) {
    r.result = Result::temperror;
    r.reason = "no DNS answer for the key at " + name;
    return r;
  }
  std::string_view id_domain = std::string_view(s.identity).substr(s.identity.rfind('@') + 1);
  KeyOutcome key = check_key_for(*it->second, s.algorithm, s.domain, id_domain);
  r.testing = it->second->record.testing;
  if (key.result != Result::pass) {
    r.result = key.result;
    r.reason = key.reason;
  } else if (p.body_too_short) {
    r.result = Result::fail;
    r.reason = "l= is larger than the body";
  } else if (!p.body_hash_ok) {
    r.result = Result::fail;
    r.reason = "body hash did not verify";
  } else if (!verify_signature(key.key->key, p.header_data, s.signature)) {
    r.result = Result::fail;
    r.reason = "signature did not verify";
  } else {
    r.result = Result::pass;
  }
  return r;
}

std::vector<SignatureResult> Verification::results() const {
  std::vector<SignatureResult> out;
  out.reserve(pending_.size());
  for (const auto& p : pending_) out.push_back(finish(p));
  return out;
}

void verify(const mail::Message& message, dns::Resolver& resolver, const VerifyOptions& options,
            std::move_only_function<void(std::vector<SignatureResult>)> done) {
  resolve_keys(Verification(message, options), resolver, std::move(done),
               [](const Verification& v) { return v.results(); });
}

}  // namespace mailmoat::auth::dkim
