#include "auth/arc/verifier.h"

#include "auth/dkim/resolve_keys.h"

#include <memory>

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/crypto.h"
#include "auth/dkim/header_hash.h"
#include "auth/dkim/key_lookup.h"
#include "auth/dkim/tag_list.h"
#include "util/strings.h"

namespace mailmoat::auth::arc {
namespace {

using dkim::Result;

std::string aar_results(std::string_view value) {
  std::string_view v = util::trim(value);
  std::size_t semi = v.find(';');
  return std::string(util::trim(semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1)));
}

}  // namespace

ChainVerification::ChainVerification(const mail::Message& message) {
  auto sets = collect_sets(message);
  if (!sets) {
    structure_error_ = sets.error().message;
    return;
  }
  std::map<std::pair<dkim::Canon, std::optional<std::uint64_t>>, std::string> body_hashes;
  for (const auto& set : *sets) {
    ArcInstance inst;
    inst.instance = set.instance;
    inst.aar = aar_results(set.aar->value);
    AmsCheck a;
    int ams_instance = 0;
    auto sig = parse_message_signature(set.ams->value, ams_instance);
    if (!sig) {
      a.error = "ARC-Message-Signature i=" + std::to_string(set.instance) + ": " + sig.error().message;
    } else {
      inst.ams_domain = sig->domain;
      inst.ams_selector = sig->selector;
      auto key = std::pair{sig->body_canon, sig->length};
      auto it = body_hashes.find(key);
      if (it == body_hashes.end()) {
        dkim::BodyHasher h(sig->body_canon, sig->length);
        h.update(message.body());
        it = body_hashes.emplace(key, h.finish()).first;
      }
      a.body_hash_ok = it->second == sig->body_hash;
      a.header_data = dkim::signed_header_data(message, sig->signed_headers, sig->header_canon, dkim::field_without_b(*set.ams));
      a.signature = std::move(*sig);
    }
    SealCheck s;
    auto seal = parse_seal(set.seal->value);
    if (!seal) {
      s.error = "ARC-Seal i=" + std::to_string(set.instance) + ": " + seal.error().message;
    } else {
      inst.seal_domain = seal->domain;
      inst.seal_selector = seal->selector;
      // RFC 8617 5.1.1: every set up to this one, AAR then AMS then AS, relaxed.
      for (const auto& earlier : *sets) {
        if (earlier.instance > set.instance) break;
        s.signed_data += dkim::canonicalize_header(earlier.aar->raw, dkim::Canon::relaxed);
        s.signed_data += dkim::canonicalize_header(earlier.ams->raw, dkim::Canon::relaxed);
        if (earlier.instance < set.instance) s.signed_data += dkim::canonicalize_header(earlier.seal->raw, dkim::Canon::relaxed);
      }
      std::string own = dkim::canonicalize_header(dkim::field_without_b(*set.seal), dkim::Canon::relaxed);
      s.signed_data += own.substr(0, own.size() - 2);
      s.seal = std::move(*seal);
    }
    instances_.push_back(std::move(inst));
    ams_.push_back(std::move(a));
    seals_.push_back(std::move(s));
  }
}

std::vector<dns::Question> ChainVerification::key_queries() const {
  std::vector<dns::Question> out;
  auto add = [&](const std::string& name) {
    for (const auto& q : out)
      if (q.name == name) return;
    if (!keys_.count(name)) out.push_back({name, dns::RecordType::txt});
  };
  for (const auto& a : ams_)
    if (a.signature) add(a.signature->key_query_name());
  for (const auto& s : seals_)
    if (s.seal) add(s.seal->selector + "._domainkey." + s.seal->domain);
  return out;
}

void ChainVerification::add_key_answer(const std::string& name, const dns::Answer& answer) {
  keys_[name] = dkim::resolve_key(answer, name);
}

std::pair<Result, std::string> ChainVerification::check_signature(const std::string& name, dkim::Algorithm alg,
                                                                  const std::string& data, const std::string& sig) const {
  if (alg == dkim::Algorithm::rsa_sha1) return {Result::permerror, "rsa-sha1 is not accepted (RFC 8301 section 3.1)"};
  auto it = keys_.find(name);
  if (it == keys_.end() || !it->second) return {Result::temperror, "no DNS answer for the key at " + name};
  auto key = dkim::check_key_for(*it->second, alg, "", "");
  if (key.result != Result::pass) return {key.result, key.reason};
  if (!dkim::verify_signature(key.key->key, data, sig)) return {Result::fail, "signature did not verify"};
  return {Result::pass, ""};
}

std::pair<Result, std::string> ChainVerification::check_ams(const AmsCheck& a) const {
  if (!a.signature) return {Result::permerror, a.error};
  const auto& s = *a.signature;
  auto r = check_signature(s.key_query_name(), s.algorithm, a.header_data, s.signature);
  if (r.first == Result::pass && !a.body_hash_ok) return {Result::fail, "body hash did not verify"};
  return r;
}

std::pair<Result, std::string> ChainVerification::check_seal(const SealCheck& s) const {
  if (!s.seal) return {Result::permerror, s.error};
  return check_signature(s.seal->selector + "._domainkey." + s.seal->domain, s.seal->algorithm, s.signed_data,
                         s.seal->signature);
}

ChainResult ChainVerification::result() const {
  ChainResult r;
  r.instances = instances_;
  auto fail = [&r](std::string reason, bool temporary = false) {
    r.cv = ChainValidation::fail;
    r.reason = std::move(reason);
    r.temporary = temporary;
    return r;
  };
  if (!structure_error_.empty()) return fail(structure_error_);
  if (instances_.empty()) return r;
  const int n = static_cast<int>(instances_.size());
  if (!seals_.back().seal) return fail(seals_.back().error);
  if (seals_.back().seal->cv == ChainValidation::fail) return fail("the newest ARC-Seal says cv=fail");
  for (int i = 0; i < n; ++i) {
    if (!seals_[i].seal) return fail(seals_[i].error);
    ChainValidation want = i == 0 ? ChainValidation::none : ChainValidation::pass;
    if (seals_[i].seal->cv != want)
      return fail("ARC-Seal i=" + std::to_string(i + 1) + " has cv=" + std::string(cv_name(seals_[i].seal->cv)) +
                  ", expected cv=" + std::string(cv_name(want)));
  }
  // The newest AMS must validate; older ones only set oldest-pass.
  for (int i = n - 1; i >= 0; --i) {
    auto [res, why] = check_ams(ams_[i]);
    r.instances[i].ams_result = res;
    r.instances[i].ams_reason = why;
    if (res != Result::pass) {
      if (i == n - 1)
        return fail("ARC-Message-Signature i=" + std::to_string(n) + ": " + why, res == Result::temperror);
      r.oldest_pass = i + 2;
      break;
    }
  }
  for (int i = n - 1; i >= 0; --i) {
    auto [res, why] = check_seal(seals_[i]);
    if (res != Result::pass) return fail("ARC-Seal i=" + std::to_string(i + 1) + ": " + why, res == Result::temperror);
  }
  r.cv = ChainValidation::pass;
  return r;
}

const ArcInstance* trusted_sealer(const ChainResult& chain, const std::vector<std::string>& trusted) {
  if (chain.cv != ChainValidation::pass) return nullptr;
  for (auto it = chain.instances.rbegin(); it != chain.instances.rend(); ++it)
    for (const auto& domain : trusted)
      if (util::iequals(it->seal_domain, domain)) return &*it;
  return nullptr;
}

void verify_chain(const mail::Message& message, dns::Resolver& resolver, std::move_only_function<void(ChainResult)> done) {
  dkim::resolve_keys(ChainVerification(message), resolver, std::move(done),
                     [](const ChainVerification& v) { return v.result(); });
}

}  // namespace mailmoat::auth::arc
