// DKIM signing (RFC 6376 section 5, RFC 8463 for Ed25519). A Signer only
// comes out of SignerBuilder::build(), which checks the key, domain and
// selector, so a half-configured signer cannot exist. Defaults follow
// current practice: relaxed/relaxed, a broad header list, and over-signing
// (listing a field once more than it occurs, RFC 6376 8.15) of the fields a
// forger would add, so they cannot be added after signing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/dkim/crypto.h"
#include "auth/dkim/signature.h"
#include "mail/message.h"
#include "util/error.h"

namespace mailmoat::auth::dkim {

std::vector<std::string> default_signed_headers();
std::vector<std::string> default_oversigned_headers();

class Signer {
 public:
  // The DKIM-Signature field to prepend (with its final CRLF).
  util::Result<std::string> sign(const mail::Message& message, std::int64_t now) const;
  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }

 private:
  friend class SignerBuilder;
  Signer() = default;
  std::string domain_, selector_;
  PrivateKey key_;
  Canon header_canon_ = Canon::relaxed, body_canon_ = Canon::relaxed;
  std::vector<std::string> headers_, oversigned_;
  bool body_length_ = false;
  std::optional<std::string> identity_;
  std::optional<std::uint64_t> expire_after_;
};

class SignerBuilder {
 public:
  SignerBuilder(std::string domain, std::string selector, PrivateKey key);
  SignerBuilder& canonicalization(Canon header, Canon body);
  SignerBuilder& headers(std::vector<std::string> names);
  SignerBuilder& oversigned(std::vector<std::string> names);
  SignerBuilder& body_length(bool on);  // adds l= (the whole body as signed)
  SignerBuilder& identity(std::string i);
  SignerBuilder& expire_after(std::uint64_t seconds);
  util::Result<Signer> build() const;

 private:
  Signer s_;
};

// A new key pair: the private key as PEM and the TXT record to publish at
// <selector>._domainkey.<domain>, split into strings of at most 255 bytes.
struct GeneratedKey {
  std::string private_pem;
  std::string txt_record;                // the record as one string
  std::vector<std::string> txt_strings;  // the same, split for the zone file
};
util::Result<GeneratedKey> generate_key(KeyType type, int bits = 2048);
// The key record for an existing private key.
std::string key_record_for(const PrivateKey& key);

}  // namespace mailmoat::auth::dkim
