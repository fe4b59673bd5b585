// The DKIM-Signature header field (RFC 6376 section 3.5) as a value: parsed
// once, checked for the required tags (v a b bh d h s), i= within d=, a sane
// l=, q=dns/txt and x= after t=. rsa-sha1 is recognised here so that the
// verifier can refuse it with RFC 8301's reason instead of "unknown algorithm".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/tag_list.h"
#include "util/error.h"

namespace mailmoat::auth::dkim {

enum class Algorithm { rsa_sha256, ed25519_sha256, rsa_sha1 };
enum class Canon { simple, relaxed };

std::string_view algorithm_name(Algorithm a);
std::optional<Algorithm> parse_algorithm(std::string_view name);
std::string_view canon_name(Canon c);

struct Signature {
  Algorithm algorithm = Algorithm::rsa_sha256;
  std::string signature;      // b=, decoded
  std::string header_b;       // b= as written, FWS removed (for header.b)
  // The untrimmed b= value's place in the parsed text, so the field can be
  // blanked for hashing (3.7) without parsing its tags a second time.
  std::size_t b_value_offset = 0, b_value_length = 0;
  std::string body_hash;      // bh=, decoded
  Canon header_canon = Canon::simple, body_canon = Canon::simple;
  std::string domain;         // d=, lower case
  std::string selector;       // s=
  std::vector<std::string> signed_headers;  // h=, as written
  std::string identity;       // i=, decoded (default "@" + d)
  std::optional<std::uint64_t> length;      // l=
  std::optional<std::uint64_t> timestamp;   // t=
  std::optional<std::uint64_t> expiration;  // x=
  std::string key_query_name() const { return selector + "._domainkey." + domain; }
};

// Parses c= ("relaxed/simple", "relaxed" = relaxed/simple).
util::Result<std::pair<Canon, Canon>> parse_canon(std::string_view value);
// Parses the h= list (colon-separated, FWS allowed).
std::vector<std::string> parse_header_list(std::string_view value);
// Decodes dkim-quoted-printable (RFC 6376 2.11).
util::Result<std::string> decode_qp(std::string_view value);

// Parses and checks a DKIM-Signature value (everything after the colon).
util::Result<Signature> parse_signature(std::string_view value);
// Shared by DKIM and the ARC-Message-Signature (RFC 8617 4.1.2): the tags
// common to both, after the caller has checked its own required tags.
// DKIM requires From in h=; an AMS does not (RFC 8617 4.1.2).
util::Result<Signature> parse_common_signature_tags(const TagList& tags, bool need_body_hash, bool need_from = true);
// A syntactically valid domain name (labels of letters, digits, '-' and '_').
bool is_valid_domain(std::string_view d);

}  // namespace mailmoat::auth::dkim
