#include "auth/dkim/signer.h"

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/field_format.h"
#include "auth/dkim/header_hash.h"
#include "auth/dkim/tag_list.h"
#include "util/strings.h"

namespace mailmoat::auth::dkim {

std::vector<std::string> default_signed_headers() {
  return {"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
          "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Sender", "List-Id", "List-Unsubscribe",
          "List-Unsubscribe-Post"};
}

std::vector<std::string> default_oversigned_headers() {
  return {"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
          "MIME-Version", "Content-Type", "Sender"};
}

SignerBuilder::SignerBuilder(std::string domain, std::string selector, PrivateKey key) {
  s_.domain_ = std::move(domain);
  util::to_lower_in_place(s_.domain_);
  s_.selector_ = std::move(selector);
  s_.key_ = std::move(key);
  s_.headers_ = default_signed_headers();
  s_.oversigned_ = default_oversigned_headers();
}

SignerBuilder& SignerBuilder::canonicalization(Canon header, Canon body) {
  s_.header_canon_ = header;
  s_.body_canon_ = body;
  return *this;
}
SignerBuilder& SignerBuilder::headers(std::vector<std::string> names) {
  s_.headers_ = std::move(names);
  return *this;
}
SignerBuilder& SignerBuilder::oversigned(std::vector<std::string> names) {
  s_.oversigned_ = std::move(names);
  return *this;
}
SignerBuilder& SignerBuilder::body_length(bool on) {
  s_.body_length_ = on;
  return *this;
}
SignerBuilder& SignerBuilder::identity(std::string i) {
  s_.identity_ = std::move(i);
  return *this;
}
SignerBuilder& SignerBuilder::expire_after(std::uint64_t seconds) {
  s_.expire_after_ = seconds;
  return *this;
}

util::Result<Signer> SignerBuilder::build() const {
  if (s_.domain_.empty() || s_.domain_.find_first_of("; \t\r\n=") != std::string::npos)
    return util::fail("invalid signing domain");
  if (s_.selector_.empty() || s_.selector_.find_first_of("; \t\r\n=") != std::string::npos)
    return util::fail("invalid selector");
  if (!s_.key_.key) return util::fail("no private key");
  if (s_.key_.type == KeyType::rsa && s_.key_.bits < 1024)
    return util::fail("RSA keys under 1024 bits are not usable (RFC 8301)");
  if (s_.identity_) {
    std::size_t at = s_.identity_->rfind('@');
    std::string_view d = at == std::string::npos ? "" : std::string_view(*s_.identity_).substr(at + 1);
    if (!util::iequals(d, s_.domain_) && !(d.size() > s_.domain_.size() && d.ends_with("." + s_.domain_)))
      return util::fail("identity i= must be within the signing domain");
  }
  for (const auto& h : s_.headers_)
    if (h.empty() || h.find_first_of(": \t\r\n;") != std::string::npos) return util::fail("invalid header name \"" + h + "\"");
  return s_;
}

util::Result<std::string> Signer::sign(const mail::Message& message, std::int64_t now) const {
  if (message.count("From") == 0) return util::fail("message has no From field; DKIM requires one to be signed");
  // Each listed field once per occurrence, then over-signed ones once more.
  std::vector<std::string> h;
  bool from_listed = false;
  for (const auto& name : headers_) {
    for (std::size_t n = message.count(name); n > 0; --n) h.push_back(util::to_lower(name));
    from_listed = from_listed || util::iequals(name, "from");
  }
  if (!from_listed) h.push_back("from");
  for (const auto& name : oversigned_) h.push_back(util::to_lower(name));

  BodyHasher body(body_canon_, std::nullopt);
  body.update(message.body());
  std::string bh = base64_encode(body.finish());

  TagValues tags;
  tags.emplace_back("v", "1");
  tags.emplace_back("a", std::string(algorithm_name(key_.type == KeyType::rsa ? Algorithm::rsa_sha256 : Algorithm::ed25519_sha256)));
  tags.emplace_back("c", std::string(canon_name(header_canon_)) + "/" + std::string(canon_name(body_canon_)));
  tags.emplace_back("d", domain_);
  tags.emplace_back("s", selector_);
  if (identity_) tags.emplace_back("i", *identity_);
  tags.emplace_back("t", std::to_string(now));
  if (expire_after_) tags.emplace_back("x", std::to_string(now + static_cast<std::int64_t>(*expire_after_)));
  if (body_length_) tags.emplace_back("l", std::to_string(body.canonical_length()));
  std::string joined;
  for (const auto& name : h) joined += (joined.empty() ? "" : ":") + name;
  tags.emplace_back("h", joined);
  tags.emplace_back("bh", bh);
  std::string field = format_unsigned_field("DKIM-Signature", tags);

  std::string data = signed_header_data(message, h, header_canon_, field);
  auto sig = sign_data(key_, data);
  if (!sig) return std::unexpected(sig.error());
  return append_signature(std::move(field), base64_encode(*sig)) + "\r\n";
}

std::string key_record_for(const PrivateKey& key) {
  return std::string("v=DKIM1; k=") + (key.type == KeyType::rsa ? "rsa" : "ed25519") +
         "; p=" + base64_encode(public_key_bytes(key));
}

util::Result<GeneratedKey> generate_key(KeyType type, int bits) {
  auto key = generate_private_key(type, bits);
  if (!key) return std::unexpected(key.error());
  GeneratedKey out;
  out.private_pem = private_key_pem(*key);
  out.txt_record = key_record_for(*key);
  for (std::size_t i = 0; i < out.txt_record.size(); i += 255) out.txt_strings.push_back(out.txt_record.substr(i, 255));
  return out;
}

}  // namespace mailmoat::auth::dkim
