#include "auth/dkim/key_record.h"

#include "auth/dkim/tag_list.h"
#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

std::vector<std::string> colon_list(std::string_view v) {
  std::vector<std::string> out;
  std::string stripped = strip_fws(v);
  for (auto part : util::split(stripped, ':'))
    if (!part.empty()) out.push_back(util::to_lower(part));
  return out;
}

}  // namespace

util::Result<KeyRecord> parse_key_record(std::string_view text) {
  auto tags = TagList::parse(text);
  if (!tags) return util::fail("key record: " + tags.error().message);
  KeyRecord k;
  if (auto v = tags->find("v")) {
    if (&tags->tags().front() != v) return util::fail("key record: v= is not the first tag");
    if (v->value != "DKIM1") return util::fail("key record: unsupported version v=" + std::string(v->value));
  }
  if (auto type = tags->value("k")) {
    if (util::iequals(*type, "rsa")) k.type = KeyType::rsa;
    else if (util::iequals(*type, "ed25519")) k.type = KeyType::ed25519;
    else return util::fail("key record: unsupported key type k=" + std::string(*type));
  }
  if (auto h = tags->value("h")) k.hashes = colon_list(*h);
  k.services = tags->value("s") ? colon_list(*tags->value("s")) : std::vector<std::string>{"*"};
  if (auto t = tags->value("t")) {
    for (const auto& flag : colon_list(*t)) {
      if (flag == "y") k.testing = true;
      if (flag == "s") k.strict_identity = true;
    }
  }
  auto p = tags->value("p");
  if (!p) return util::fail("key record: missing tag p=");
  if (strip_fws(*p).empty()) {
    k.revoked = true;
    return k;
  }
  auto data = base64_decode(*p);
  if (!data) return util::fail("key record: bad base64 in p=");
  k.key_data = std::move(*data);
  return k;
}

}  // namespace mailmoat::auth::dkim
