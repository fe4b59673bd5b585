#include "auth/dkim/signature.h"

#include <algorithm>
#include <cctype>

#include "auth/dkim/crypto.h"
#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

bool is_subdomain_or_same(std::string_view sub, std::string_view parent) {
  if (util::iequals(sub, parent)) return true;
  return sub.size() > parent.size() && sub[sub.size() - parent.size() - 1] == '.' &&
         util::iequals(sub.substr(sub.size() - parent.size()), parent);
}

util::Result<std::uint64_t> number_tag(std::string_view name, std::string_view v) {
  // RFC 6376 3.5: l=, t= and x= are at most 76 and 12 digits; larger values are
  // absurd for any real message and would overflow, so they are syntax errors.
  if (v.size() > 19) return util::fail(std::string(name) + "= value is too large");
  auto n = util::parse_uint(v);
  if (!n) return util::fail(std::string(name) + "= is not a number");
  return *n;
}

}  // namespace

std::string_view algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::rsa_sha256: return "rsa-sha256";
    case Algorithm::ed25519_sha256: return "ed25519-sha256";
    case Algorithm::rsa_sha1: return "rsa-sha1";
  }
  return "";
}

std::optional<Algorithm> parse_algorithm(std::string_view name) {
  if (util::iequals(name, "rsa-sha256")) return Algorithm::rsa_sha256;
  if (util::iequals(name, "ed25519-sha256")) return Algorithm::ed25519_sha256;
  if (util::iequals(name, "rsa-sha1")) return Algorithm::rsa_sha1;
  return std::nullopt;
}

std::string_view canon_name(Canon c) { return c == Canon::simple ? "simple" : "relaxed"; }

util::Result<std::pair<Canon, Canon>> parse_canon(std::string_view value) {
  auto one = [](std::string_view s) -> std::optional<Canon> {
    if (util::iequals(s, "simple")) return Canon::simple;
    if (util::iequals(s, "relaxed")) return Canon::relaxed;
    return std::nullopt;
  };
  std::string v = strip_fws(value);
  std::size_t slash = v.find('/');
  auto h = one(std::string_view(v).substr(0, slash));
  auto b = slash == std::string::npos ? std::optional<Canon>(Canon::simple) : one(std::string_view(v).substr(slash + 1));
  if (!h || !b) return util::fail("unknown canonicalization c=" + v);
  return std::pair{*h, *b};
}

std::vector<std::string> parse_header_list(std::string_view value) {
  std::vector<std::string> out;
  const std::string v = strip_fws(value);
  out.reserve(static_cast<std::size_t>(std::count(v.begin(), v.end(), ':')) + 1);
  std::size_t start = 0;
  for (;;) {
    const std::size_t colon = v.find(':', start);
    out.emplace_back(std::string_view(v).substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) return out;
    start = colon + 1;
  }
}

util::Result<std::string> decode_qp(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (c != '=') { out.push_back(c); continue; }
    if (i + 2 >= value.size() || !std::isxdigit(static_cast<unsigned char>(value[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(value[i + 2])))
      return util::fail("bad quoted-printable escape");
    out.push_back(static_cast<char>(std::stoi(std::string(value.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

bool is_valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  for (auto label : util::split(d, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

util::Result<Signature> parse_common_signature_tags(const TagList& tags, bool need_body_hash, bool need_from) {
  for (std::string_view name : {"a", "b", "d", "h", "s"})
    if (!tags.find(name)) return util::fail(std::string("missing tag ") + std::string(name) + "=");
  if (need_body_hash && !tags.find("bh")) return util::fail("missing tag bh=");
  Signature s;
  auto alg = parse_algorithm(*tags.value("a"));
  if (!alg) return util::fail("unsupported algorithm a=" + std::string(*tags.value("a")));
  s.algorithm = *alg;
  const Tag* b_tag = tags.find("b");
  s.b_value_offset = b_tag->value_offset;
  s.b_value_length = b_tag->value_length;
  s.header_b = strip_fws(b_tag->value);
  auto b = base64_decode(s.header_b);
  if (!b || b->empty()) return util::fail("bad base64 in b=");
  s.signature = std::move(*b);
  if (need_body_hash) {
    auto bh = base64_decode(*tags.value("bh"));
    if (!bh || bh->empty()) return util::fail("bad base64 in bh=");
    s.body_hash = std::move(*bh);
  }
  if (auto c = tags.value("c")) {
    auto canon = parse_canon(*c);
    if (!canon) return std::unexpected(canon.error());
    std::tie(s.header_canon, s.body_canon) = *canon;
  }
  s.domain = util::to_lower(*tags.value("d"));
  s.selector = std::string(*tags.value("s"));
  if (s.domain.empty()) return util::fail("empty d=");
  if (!is_valid_domain(s.domain)) return util::fail("d= is not a valid domain name");
  if (s.selector.empty()) return util::fail("empty s=");
  s.signed_headers = parse_header_list(*tags.value("h"));
  if (s.signed_headers.size() == 1 && s.signed_headers[0].empty()) s.signed_headers.clear();
  bool has_from = false;
  for (const auto& h : s.signed_headers) {
    // An empty name is a syntax error for DKIM (RFC 6376 3.5, 1*ftext); the
    // ARC suite expects an AMS with one to validate, and it signs nothing.
    if (h.empty() && need_from) return util::fail("empty header name in h=");
    if (util::iequals(h, "from")) has_from = true;
  }
  if (need_from && !has_from) return util::fail("h= does not include From");
  if (auto l = tags.value("l")) {
    auto n = number_tag("l", *l);
    if (!n) return std::unexpected(n.error());
    s.length = *n;
  }
  if (auto q = tags.value("q")) {
    bool dns = false;
    std::string methods = strip_fws(*q);
    for (auto m : util::split(methods, ':'))
      if (util::iequals(m, "dns/txt")) dns = true;
    if (!dns) return util::fail("unsupported query method q=" + std::string(*q));
  }
  for (std::string_view name : {"t", "x"}) {
    if (auto v = tags.value(name)) {
      auto n = number_tag(name, *v);
      if (!n) return std::unexpected(n.error());
      (name == "t" ? s.timestamp : s.expiration) = *n;
    }
  }
  if (s.timestamp && s.expiration && *s.expiration < *s.timestamp) return util::fail("x= is before t=");
  return s;
}

util::Result<Signature> parse_signature(std::string_view value) {
  auto tags = TagList::parse(value);
  if (!tags) return std::unexpected(tags.error());
  auto v = tags->value("v");
  if (!v) return util::fail("missing tag v=");
  if (*v != "1") return util::fail("unsupported version v=" + std::string(*v));
  auto s = parse_common_signature_tags(*tags, true);
  if (!s) return s;
  if (auto i = tags->value("i")) {
    auto id = decode_qp(*i);
    if (!id) return util::fail("i=: " + id.error().message);
    std::size_t at = id->rfind('@');
    if (at == std::string::npos) return util::fail("i= has no '@'");
    if (!is_subdomain_or_same(std::string_view(*id).substr(at + 1), s->domain))
      return util::fail("i= domain is not within d=");
    s->identity = std::move(*id);
  } else {
    s->identity = "@" + s->domain;
  }
  return s;
}

}  // namespace mailmoat::auth::dkim
