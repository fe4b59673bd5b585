// The signature primitives DKIM and ARC use, over OpenSSL's EVP interface:
// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 6376 3.3.1) and Ed25519 over the
// SHA-256 digest of the header data (RFC 8463 section 3). Public keys come
// from a key record's p= (RSA as SubjectPublicKeyInfo or PKCS#1, Ed25519 as
// the raw 32 bytes). RFC 8301: RSA keys under 1024 bits are refused here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace mailmoat::auth::dkim {

enum class KeyType { rsa, ed25519 };

struct PkeyFree {
  void operator()(EVP_PKEY* p) const;
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

std::string base64_encode(std::string_view bytes);
// Strict base64 (RFC 4648 with padding); FWS inside is skipped.
util::Result<std::string> base64_decode(std::string_view text);

std::string sha256(std::string_view data);

// Incremental SHA-256 (the body hash is computed while the body streams in).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  void update(std::string_view data);
  std::string finish();

 private:
  void* ctx_ = nullptr;
};

struct PublicKey {
  KeyType type = KeyType::rsa;
  int bits = 0;
  PkeyPtr key;
};

// Parses decoded p= bytes. RSA: SPKI, else PKCS#1; refuses keys under 1024
// or over 8192 bits. Ed25519: exactly 32 bytes.
util::Result<PublicKey> load_public_key(KeyType type, std::string_view der);

// Verifies `signature` over `data` (the canonicalized header data). For
// Ed25519 the signed message is sha256(data), per RFC 8463.
bool verify_signature(const PublicKey& key, std::string_view data, std::string_view signature);

struct PrivateKey {
  KeyType type = KeyType::rsa;
  int bits = 0;
  PkeyPtr key;
};

// PEM (PKCS#8 or PKCS#1 for RSA, PKCS#8 for Ed25519), or a bare base64
// 32-byte Ed25519 seed as dkimpy writes it.
util::Result<PrivateKey> load_private_key(std::string_view text);
util::Result<std::string> sign_data(const PrivateKey& key, std::string_view data);
// Public key as the p= value expects it (SPKI for RSA, raw for Ed25519), decoded.
std::string public_key_bytes(const PrivateKey& key);
std::string private_key_pem(const PrivateKey& key);
util::Result<PrivateKey> generate_private_key(KeyType type, int bits);

}  // namespace mailmoat::auth::dkim
