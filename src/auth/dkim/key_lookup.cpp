#include "auth/dkim/key_lookup.h"

#include <algorithm>

#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

KeyOutcome error(Result r, std::string reason) {
  KeyOutcome o;
  o.result = r;
  o.reason = std::move(reason);
  return o;
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

// Checks that the record may be used for this signature (RFC 6376 3.6.1).
KeyOutcome check_record(KeyRecord record, Algorithm algorithm, std::string_view signing_domain,
                        std::string_view identity_domain) {
  if (record.revoked) return error(Result::permerror, "key revoked (empty p=)");
  KeyType want = algorithm == Algorithm::ed25519_sha256 ? KeyType::ed25519 : KeyType::rsa;
  if (record.type != want) return error(Result::permerror, "key type k= does not match the signature algorithm");
  if (!record.hashes.empty() && !contains(record.hashes, algorithm == Algorithm::rsa_sha1 ? "sha1" : "sha256"))
    return error(Result::permerror, "key record h= does not allow the signature's hash");
  if (!contains(record.services, "*") && !contains(record.services, "email"))
    return error(Result::permerror, "key record s= does not include email");
  if (record.strict_identity && !identity_domain.empty() && !util::iequals(identity_domain, signing_domain))
    return error(Result::permerror, "key record t=s requires the i= domain to equal d=");
  auto key = load_public_key(record.type, record.key_data);
  if (!key) return error(Result::permerror, key.error().message);
  KeyOutcome o;
  o.record = std::move(record);
  o.key = std::move(*key);
  return o;
}

}  // namespace

KeyOutcome evaluate_key_answer(const dns::Answer& answer, std::string_view name, Algorithm algorithm,
                               std::string_view signing_domain, std::string_view identity_domain) {
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
    if (record) return check_record(std::move(*record), algorithm, signing_domain, identity_domain);
    if (first_error.empty()) first_error = record.error().message;
  }
  return error(Result::permerror, first_error);
}

}  // namespace mailmoat::auth::dkim
