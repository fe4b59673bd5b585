#include "links/attachment_token.h"

#include <sodium.h>

#include "links/token.h"
#include "util/strings.h"

namespace mailmoat::links {
namespace {

std::string tag_for(const std::string& key, const std::string& message, const std::string& part) {
  std::string in = "mailmoat-attachment-v1";
  for (const std::string* f : {&message, &part}) in += "\n" + std::to_string(f->size()) + ":" + *f;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

}  // namespace

util::Result<AttachmentLinkSigner> AttachmentLinkSigner::create(std::string public_url, std::vector<std::string> keys) {
  // LinkSigner checks the URL and keys; the same rules hold here.
  auto checked = LinkSigner::create(std::move(public_url), keys);
  if (!checked) return util::fail(checked.error().message);
  AttachmentLinkSigner s;
  s.public_url_ = checked->public_url();
  s.keys_ = std::move(keys);
  return s;
}

std::string AttachmentLinkSigner::link(const std::string& message, const std::string& part) const {
  return public_url_ + "/v1/a?m=" + percent_encode(message) + "&p=" + percent_encode(part) +
         "&s=" + tag_for(keys_.front(), message, part);
}

bool AttachmentLinkSigner::verify(const AttachmentLink& link) const {
  bool ok = false;
  for (const auto& key : keys_) {
    std::string expected = tag_for(key, link.message, link.part);
    if (expected.size() == link.tag.size() && sodium_memcmp(expected.data(), link.tag.data(), expected.size()) == 0)
      ok = true;
  }
  return ok;
}

util::Result<AttachmentLink> parse_attachment_link(std::string_view query) {
  AttachmentLink out;
  bool seen[3] = {false, false, false};
  for (std::string_view pair : util::split(query, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return util::fail("malformed field");
    std::string_view name = pair.substr(0, eq);
    auto value = percent_decode(pair.substr(eq + 1));
    if (!value) return util::fail(value.error().message);
    int k = name == "m" ? 0 : name == "p" ? 1 : name == "s" ? 2 : -1;
    if (k < 0) continue;
    if (seen[k]) return util::fail("repeated field " + std::string(name));
    seen[k] = true;
    (k == 0 ? out.message : k == 1 ? out.part : out.tag) = std::move(*value);
  }
  if (!seen[0] || !seen[1] || !seen[2]) return util::fail("missing field (m, p and s are required)");
  return out;
}

}  // namespace mailmoat::links
