#include "auth/dkim/key_lookup.h"

#include <algorithm>

#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

ResolvedKeyPtr error(Result r, std::string reason) {
  auto k = std::make_shared<ResolvedKey>();
  k->result = r;
  k->reason = std::move(reason);
  return k;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

ResolvedKeyPtr load(KeyRecord record) {
  auto k = std::make_shared<ResolvedKey>();
  if (!record.revoked) {
    auto key = load_public_key(record.type, record.key_data);
    if (!key) return error(Result::permerror, key.error().message);
    k->key = std::move(*key);
  }
  k->record = std::move(record);
  return k;
}

}  // namespace

ResolvedKeyPtr resolve_key(const dns::Answer& answer, std::string_view name) {
  switch (answer.status) {
    case dns::Status::servfail:
    case dns::Status::timeout:
      return error(Result::temperror, "DNS error looking up the key at " + std::string(name));
    case dns::Status::nxdomain:
    case dns::Status::nodata:
      return error(Result::permerror, "no key record at " + std::string(name));
    case dns::Status::ok: break;
  }
  if (answer.txt.empty()) return error(Result::permerror, "no key record at " + std::string(name));
  // Several TXT records: use the first that parses as a key record.
  std::string first_error;
  for (const auto& txt : answer.txt) {
    auto record = parse_key_record(txt);
    if (record) return load(std::move(*record));
    if (first_error.empty()) first_error = record.error().message;
  }
  return error(Result::permerror, first_error);
}

KeyOutcome check_key_for(const ResolvedKey& key, Algorithm algorithm, std::string_view signing_domain,
                         std::string_view identity_domain) {
  auto fail = [](std::string reason) { return KeyOutcome{Result::permerror, std::move(reason), nullptr}; };
  if (key.result != Result::pass) return {key.result, key.reason, nullptr};
  const KeyRecord& record = key.record;
  if (record.revoked) return fail("key revoked (empty p=)");
  KeyType want = algorithm == Algorithm::ed25519_sha256 ? KeyType::ed25519 : KeyType::rsa;
  if (record.type != want) return fail("key type k= does not match the signature algorithm");
  if (!record.hashes.empty() && !contains(record.hashes, algorithm == Algorithm::rsa_sha1 ? "sha1" : "sha256"))
    return fail("key record h= does not allow the signature's hash");
  if (!contains(record.services, "*") && !contains(record.services, "email"))
    return fail("key record s= does not include email");
  if (record.strict_identity && !identity_domain.empty() && !util::iequals(identity_domain, signing_domain))
    return fail("key record t=s requires the i= domain to equal d=");
  return {Result::pass, "", &key};
}

}  // namespace mailmoat::auth::dkim
