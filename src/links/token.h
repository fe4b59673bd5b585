// Signed Safe Links (docs/links.md): the versioned, documented form
//   <public_url>/v1/l?u=<original, percent-encoded>&m=<message>&r=<recipient>[&p=<policy>]&s=<tag>
// where tag = base64url(HMAC-SHA256(key, "mailmoat-link-v1" + each field length-prefixed)).
// p= names the policy that rewrote a message to several recipients (r= is then
// empty), so the click is judged by that policy; it enters the MAC only when
// present, so links made before it existed still verify.
// Anyone can read the original URL from a link; only a holder of a key can make
// one. Several keys allow rotation: the first signs, every one verifies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::links {

struct LinkFields {
  std::string url;        // the original destination, as written in the message (decoded)
  std::string message;    // the message token (the gateway's queue id)
  std::string recipient;  // the recipient token (address, or "" for a message to many)
  std::string policy;     // the rewriting policy's name, for a message to many; "" otherwise
};

// A link read back from its text; `tag` is not yet checked.
struct ParsedLink {
  LinkFields fields;
  std::string tag;
};

class LinkSigner {
 public:
  // `public_url` is scheme://host[:port] of the click service; keys are raw secrets
  // (at least 16 bytes each), the first one signs.
  static util::Result<LinkSigner> create(std::string public_url, std::vector<std::string> keys);
  std::string wrap(const LinkFields& fields) const;
  bool verify(const ParsedLink& link) const;
  // True when `url` already points at this click service (never wrap twice).
  bool is_own_link(std::string_view url) const;
  const std::string& public_url() const { return public_url_; }

 private:
  // HMAC-SHA256 (RFC 2104) midstates per key: SHA-256 contexts (OpenSSL's SHA256_CTX,
  // kept opaque here) that have absorbed the key's inner pad plus the
  // "mailmoat-link-v1" prefix, and its outer pad. A link then costs only its own bytes.
  struct KeyedState {
    alignas(16) unsigned char inner[112];
    alignas(16) unsigned char outer[112];
  };
  static KeyedState keyed_state(std::string& key);
  std::string tag_for(const KeyedState& keyed, const LinkFields& fields) const;
  std::string public_url_;
  std::vector<KeyedState> keyed_;
};

// Parses a whole link ("https://host/v1/l?u=...") or only its query ("u=...&s=...").
// Fails on a missing field, a repeated field or invalid percent-encoding.
util::Result<ParsedLink> parse_link(std::string_view link);

// RFC 3986 percent-encoding of everything but unreserved characters.
std::string percent_encode(std::string_view bytes);
// Strict decoding: '%' must be followed by two hex digits. '+' stays '+'.
util::Result<std::string> percent_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);

}  // namespace mailmoat::links
