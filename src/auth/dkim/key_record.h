// DKIM public key records (RFC 6376 section 3.6.1, RFC 8463 for k=ed25519):
// v= first and "DKIM1" if present, k= rsa (default) or ed25519, h= hash
// list, s= service types, t= flags (y = testing, s = strict i= domain), and
// p= whose empty value means the key was revoked. Unknown tags are ignored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/crypto.h"
#include "util/error.h"

namespace mailmoat::auth::dkim {

struct KeyRecord {
  KeyType type = KeyType::rsa;
  std::vector<std::string> hashes;    // h=; empty means any
  std::vector<std::string> services;  // s=; default "*"
  bool testing = false;               // t=y
  bool strict_identity = false;       // t=s
  bool revoked = false;               // p= empty
  std::string key_data;               // p=, decoded
};

util::Result<KeyRecord> parse_key_record(std::string_view text);

}  // namespace mailmoat::auth::dkim
