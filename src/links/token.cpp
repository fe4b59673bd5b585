#include "links/token.h"

// The SHA-256 context API (SHA256_Init/Update/Final) is deprecated in OpenSSL 3 in
// favour of EVP, whose per-call algorithm fetch costs four times a whole link's
// HMAC, and whose evp.h (via bio.h) a pure module may not include. The context API
// is still part of OpenSSL 3 and uses the CPU's SHA extensions: six times faster
// than libsodium's portable SHA-256 here (docs/links.md, "Performance").
#define OPENSSL_API_COMPAT 10101
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>

#include "util/strings.h"

namespace mailmoat::links {

namespace {

constexpr std::string_view kPath = "/v1/l?";

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::string_view kMacPrefix = "mailmoat-link-v1";

// Each field is length-prefixed ("\n" <decimal length> ":" <value>) so that no
// choice of field values can make two different links share one MAC input.
void absorb(SHA256_CTX& ctx, const std::string& field) {
  char prefix[24];
  prefix[0] = '\n';
  std::size_t n = 1;
  std::string digits = std::to_string(field.size());
  for (char d : digits) prefix[n++] = d;
  prefix[n++] = ':';
  SHA256_Update(&ctx, prefix, n);
  SHA256_Update(&ctx, field.data(), field.size());
}

}  // namespace

std::string percent_encode(std::string_view bytes) {
  static constexpr char hex[] = "0123456789ABCDEF";
  // Written through a pointer into a worst-case buffer (every byte escaped).
  std::string out(bytes.size() * 3, '\0');
  char* o = out.data();
  for (unsigned char c : bytes) {
    if (unreserved(c)) {
      *o++ = static_cast<char>(c);
    } else {
      o[0] = '%', o[1] = hex[c >> 4], o[2] = hex[c & 15];
      o += 3;
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

util::Result<std::string> percent_decode(std::string_view text) {
  // Runs without '%' are copied whole: a click decodes every field of its link.
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t pct = text.find('%', i);
    out.append(text.substr(i, pct == std::string_view::npos ? std::string_view::npos : pct - i));
    if (pct == std::string_view::npos) break;
    if (pct + 2 >= text.size()) return util::fail("truncated percent-encoding");
    int hi = hex_value(text[pct + 1]), lo = hex_value(text[pct + 2]);
    if (hi < 0 || lo < 0) return util::fail("invalid percent-encoding at offset " + std::to_string(pct));
    out += static_cast<char>(hi * 16 + lo);
    i = pct + 3;
  }
  return out;
}

std::string base64url_encode(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += alphabet[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
  }
  return out;
}

util::Result<LinkSigner> LinkSigner::create(std::string public_url, std::vector<std::string> keys) {
  if (keys.empty()) return util::fail("no link signing key");
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i].size() < 16) return util::fail("link signing key " + std::to_string(i) + " is shorter than 16 bytes");
  if (!util::istarts_with(public_url, "https://") && !util::istarts_with(public_url, "http://"))
    return util::fail("public URL must start with https:// or http://: " + public_url);
  while (!public_url.empty() && public_url.back() == '/') public_url.pop_back();
  if (public_url.find('/', public_url.find("://") + 3) != std::string::npos || public_url.find('?') != std::string::npos)
    return util::fail("public URL must be scheme://host[:port] without a path: " + public_url);
  LinkSigner s;
  s.public_url_ = std::move(public_url);
  for (std::string& key : keys) s.keyed_.push_back(keyed_state(key));
  return s;
}

// RFC 2104: H(K ^ opad, H(K ^ ipad, text)), K padded to the block (hashed first when longer).
LinkSigner::KeyedState LinkSigner::keyed_state(std::string& key) {
  static_assert(sizeof(SHA256_CTX) <= sizeof(KeyedState::inner));
  unsigned char block[SHA256_CBLOCK] = {};
  if (key.size() > SHA256_CBLOCK)
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  else
    std::copy(key.begin(), key.end(), block);
  KeyedState keyed;
  SHA256_CTX ctx;
  for (auto& b : block) b ^= 0x36;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block, sizeof block);
  SHA256_Update(&ctx, kMacPrefix.data(), kMacPrefix.size());
  std::memcpy(keyed.inner, &ctx, sizeof ctx);
  for (auto& b : block) b ^= 0x36 ^ 0x5c;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, block, sizeof block);
  std::memcpy(keyed.outer, &ctx, sizeof ctx);
  sodium_memzero(block, sizeof block);
  sodium_memzero(&ctx, sizeof ctx);
  sodium_memzero(key.data(), key.size());  // only the midstates are kept
  return keyed;
}

std::string LinkSigner::tag_for(const KeyedState& keyed, const LinkFields& fields) const {
  unsigned char inner[SHA256_DIGEST_LENGTH], mac[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  std::memcpy(&ctx, keyed.inner, sizeof ctx);
  absorb(ctx, fields.url);
  absorb(ctx, fields.message);
  absorb(ctx, fields.recipient);
  if (!fields.policy.empty()) absorb(ctx, fields.policy);  // absent from links made before p= existed
  SHA256_Final(inner, &ctx);
  std::memcpy(&ctx, keyed.outer, sizeof ctx);
  SHA256_Update(&ctx, inner, sizeof inner);
  SHA256_Final(mac, &ctx);
  sodium_memzero(&ctx, sizeof ctx);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

std::string LinkSigner::wrap(const LinkFields& fields) const {
  std::string u = percent_encode(fields.url), m = percent_encode(fields.message), r = percent_encode(fields.recipient);
  std::string s = tag_for(keyed_.front(), fields);
  std::string link;
  link.reserve(public_url_.size() + kPath.size() + u.size() + m.size() + r.size() + s.size() + 11);
  link.append(public_url_).append(kPath).append("u=").append(u).append("&m=").append(m).append("&r=").append(r);
  if (!fields.policy.empty()) link.append("&p=").append(percent_encode(fields.policy));
  link.append("&s=").append(s);
  return link;
}

bool LinkSigner::verify(const ParsedLink& link) const {
  bool ok = false;
  for (const auto& keyed : keyed_) {
    std::string expected = tag_for(keyed, link.fields);
    // Constant time in the tag's content; the length of a valid tag is public.
    if (expected.size() == link.tag.size() && sodium_memcmp(expected.data(), link.tag.data(), expected.size()) == 0)
      ok = true;
  }
  return ok;
}

bool LinkSigner::is_own_link(std::string_view url) const {
  return url.size() > public_url_.size() + kPath.size() && util::istarts_with(url, public_url_) &&
         url.substr(public_url_.size(), kPath.size()) == kPath;
}

util::Result<ParsedLink> parse_link(std::string_view link) {
  std::size_t q = link.find('?');
  if (q != std::string_view::npos) {
    std::string_view before = link.substr(0, q);
    if (before.size() < 5 || before.substr(before.size() - 5) != "/v1/l")
      return util::fail("not a mailmoat v1 link (path is not /v1/l)");
    link = link.substr(q + 1);
  }
  std::size_t hash = link.find('#');
  if (hash != std::string_view::npos) link = link.substr(0, hash);
  ParsedLink out;
  bool seen[5] = {false, false, false, false, false};
  for (std::string_view pair : util::split(link, '&')) {
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) return util::fail("query parameter without '=': " + std::string(pair.substr(0, 40)));
    std::string_view name = pair.substr(0, eq);
    auto value = percent_decode(pair.substr(eq + 1));
    if (!value) return util::fail("parameter " + std::string(name) + ": " + value.error().message);
    static constexpr std::string_view names[] = {"u", "m", "r", "s", "p"};
    std::string* targets[] = {&out.fields.url, &out.fields.message, &out.fields.recipient, &out.tag,
                              &out.fields.policy};
    bool known = false;
    for (int i = 0; i < 5; ++i) {
      if (name != names[i]) continue;
      if (seen[i]) return util::fail("parameter " + std::string(name) + " given twice");
      seen[i] = known = true;
      *targets[i] = std::move(*value);
      break;
    }
    if (!known) return util::fail("unknown parameter " + std::string(name.substr(0, 40)));
  }
  if (!seen[0] || !seen[3]) return util::fail("link lacks the u= or s= parameter");
  return out;
}

}  // namespace mailmoat::links
