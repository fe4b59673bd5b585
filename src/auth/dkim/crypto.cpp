#include "auth/dkim/crypto.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mailmoat::auth::dkim {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

PkeyPtr wrap(EVP_PKEY* p) { return PkeyPtr(p, PkeyFree{}); }

// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up again on
// every use, which costs as much as hashing a small message.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};

// RSA verification contexts, initialised once per key and thread and reused
// as `openssl speed` does: setting up a context (provider lookups, padding,
// digest) cost about a third of the RSA operation itself. Each context holds
// a reference to its key, so a cached pointer is never a different key; the
// cache is small and starts over when full (keys rotate rarely).
class RsaVerifyContexts {
 public:
  ~RsaVerifyContexts() { clear(); }
  EVP_PKEY_CTX* get(EVP_PKEY* key) {
    for (const auto& e : entries_)
      if (e.first == key) return e.second;
    if (entries_.size() >= 64) clear();
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
    if (!ctx || EVP_PKEY_verify_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_CTX_set_signature_md(ctx, sha256_md()) != 1) {
      EVP_PKEY_CTX_free(ctx);
      return nullptr;
    }
    entries_.emplace_back(key, ctx);
    return ctx;
  }

 private:
  void clear() {
    for (const auto& e : entries_) EVP_PKEY_CTX_free(e.second);
    entries_.clear();
  }
  std::vector<std::pair<EVP_PKEY*, EVP_PKEY_CTX*>> entries_;
};

bool verify_rsa_sha256(EVP_PKEY* key, std::string_view data, std::string_view signature) {
  thread_local RsaVerifyContexts contexts;
  EVP_PKEY_CTX* ctx = contexts.get(key);
  if (!ctx) return false;
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, sha256_md(), nullptr) != 1) return false;
  return EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(), md.data(),
                         len) == 1;
}

}  // namespace

void PkeyFree::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    std::uint32_t v = (std::uint8_t(bytes[i]) << 16) | (std::uint8_t(bytes[i + 1]) << 8) | std::uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t v = std::uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= std::uint8_t(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

util::Result<std::string> base64_decode(std::string_view text) {
  // -1: not base64; -2: FWS, skipped; -3: padding.
  static constexpr auto kValue = [] {
    std::array<signed char, 256> t{};
    for (auto& v : t) v = -1;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<signed char>(i);
    t[' '] = t['\t'] = t['\r'] = t['\n'] = -2;
    t['='] = -3;
    return t;
  }();
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* w = out.data();
  std::uint32_t acc = 0;
  int bits = 0, pad = 0;
  std::size_t n = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size; ++i) {
    // Four data characters at a group boundary (the usual case, FWS aside):
    // three bytes at once, the same result as the general path below.
    if (bits == 0 && i + 4 <= size) {
      // NOLINTNEXTLINE(bugprone-signed-char-misuse): the table is signed on purpose (negative markers above)
      const int a = kValue[in[i]], b = kValue[in[i + 1]], c = kValue[in[i + 2]], d = kValue[in[i + 3]];
      if ((a | b | c | d) >= 0 && pad == 0) {
        const auto v = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
        *w++ = static_cast<char>(v >> 16);
        *w++ = static_cast<char>((v >> 8) & 0xff);
        *w++ = static_cast<char>(v & 0xff);
        n += 4;
        i += 3;
        continue;
      }
    }
    const char c = static_cast<char>(in[i]);
    const int v = kValue[in[i]];  // NOLINT(bugprone-signed-char-misuse): as above
    if (v >= 0) {
      if (pad) return util::fail("base64 data after padding");
      ++n;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        *w++ = static_cast<char>((acc >> bits) & 0xff);
      }
    } else if (v == -3) {
      ++pad;
    } else if (v == -1) {
      return util::fail(std::string("invalid base64 character '") + c + "'");
    }
  }
  if (n % 4 == 1 || pad > 2 || (pad && (n + pad) % 4 != 0))
    return util::fail("invalid base64 length or padding");
  out.resize(static_cast<std::size_t>(w - out.data()));
  return out;
}

std::string sha256(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, sha256_md(), nullptr);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), sha256_md(), nullptr);
}
Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
Sha256Stream::Sha256Stream(Sha256Stream&& o) noexcept : ctx_(std::exchange(o.ctx_, nullptr)) {}
Sha256Stream& Sha256Stream::operator=(Sha256Stream&& o) noexcept {
  std::swap(ctx_, o.ctx_);
  return *this;
}
void Sha256Stream::update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}
std::string Sha256Stream::finish() {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md.data(), &len);
  return std::string(reinterpret_cast<const char*>(md.data()), len);
}

namespace {

util::Result<PublicKey> parse_public_key(KeyType type, std::string_view der) {
  PublicKey out;
  out.type = type;
  if (type == KeyType::ed25519) {
    if (der.size() != 32) return util::fail("Ed25519 key of " + std::to_string(der.size()) + " bytes, not 32");
    out.key = wrap(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                               reinterpret_cast<const unsigned char*>(der.data()), der.size()));
    if (!out.key) return util::fail("unusable Ed25519 key");
    out.bits = 256;
    return out;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (!k || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    EVP_PKEY_free(k);
    p = reinterpret_cast<const unsigned char*>(der.data());  // PKCS#1 RSAPublicKey
    k = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
  }
  if (!k) return util::fail("key data is not an RSA public key");
  out.key = wrap(k);
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) return util::fail("key data is not an RSA public key");
  out.bits = EVP_PKEY_get_bits(k);
  if (out.bits < 1024)
    return util::fail("RSA key of " + std::to_string(out.bits) + " bits is shorter than the 1024 bits RFC 8301 requires");
  if (out.bits > 8192) return util::fail("RSA key of " + std::to_string(out.bits) + " bits is larger than 8192 bits");
  return out;
}

// A parsed key depends on its bytes alone, and OpenSSL 3 decodes slowly (the
// d2i of one RSA key was ~9% of the gateway's CPU in the end-to-end benchmark,
// where every message's key record is the same): usable keys seen before are
// shared. An EVP_PKEY is safe for concurrent verifications. Bounded: emptied
// when full.
class KeyCache {
 public:
  static constexpr std::size_t kCapacity = 4096;
  std::optional<PublicKey> find(KeyType type, std::string_view der) {
    std::lock_guard lock(mu_);
    auto it = keys_.find(key_of(type, der));
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  void add(KeyType type, std::string_view der, const PublicKey& key) {
    std::lock_guard lock(mu_);
    if (keys_.size() >= kCapacity) keys_.clear();
    keys_.emplace(key_of(type, der), key);
  }

 private:
  static std::string key_of(KeyType type, std::string_view der) {
    std::string k(1, type == KeyType::rsa ? 'r' : 'e');
    k += der;
    return k;
  }
  std::mutex mu_;
  std::unordered_map<std::string, PublicKey> keys_;
};

}  // namespace

util::Result<PublicKey> load_public_key(KeyType type, std::string_view der) {
  static KeyCache cache;
  if (auto known = cache.find(type, der)) return *known;
  auto parsed = parse_public_key(type, der);
  if (parsed) cache.add(type, der, *parsed);
  return parsed;
}

bool verify_signature(const PublicKey& key, std::string_view data, std::string_view signature) {
  if (!key.key) return false;
  if (key.type == KeyType::rsa) return verify_rsa_sha256(key.key.get(), data, signature);
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  std::string digest;
  if (key.type == KeyType::ed25519) {
    digest = sha256(data);
    data = digest;
  }
  const EVP_MD* md = key.type == KeyType::rsa ? sha256_md() : nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

util::Result<PrivateKey> load_private_key(std::string_view text) {
  PrivateKey out;
  if (text.find("-----BEGIN") == std::string_view::npos) {
    auto seed = base64_decode(text);
    if (!seed || seed->size() != 32) return util::fail("neither a PEM private key nor a base64 Ed25519 seed");
    out.key = wrap(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                                reinterpret_cast<const unsigned char*>(seed->data()), 32));
  } else {
    std::string copy(text);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(copy.data(), static_cast<int>(copy.size())), &BIO_free);
    out.key = wrap(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  }
  if (!out.key) return util::fail("unreadable private key");
  int id = EVP_PKEY_get_base_id(out.key.get());
  if (id == EVP_PKEY_ED25519) out.type = KeyType::ed25519;
  else if (id == EVP_PKEY_RSA) out.type = KeyType::rsa;
  else return util::fail("private key is neither RSA nor Ed25519");
  out.bits = EVP_PKEY_get_bits(out.key.get());
  return out;
}

util::Result<std::string> sign_data(const PrivateKey& key, std::string_view data) {
  MdCtx ctx(EVP_MD_CTX_new());
  std::string digest;
  if (key.type == KeyType::ed25519) {
    digest = sha256(data);
    data = digest;
  }
  const EVP_MD* md = key.type == KeyType::rsa ? sha256_md() : nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.key.get()) != 1) return util::fail("signing failed");
  std::size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) return util::fail("signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size()) != 1)
    return util::fail("signing failed");
  sig.resize(len);
  return sig;
}

std::string public_key_bytes(const PrivateKey& key) {
  if (key.type == KeyType::ed25519) {
    std::string raw(32, '\0');
    std::size_t len = raw.size();
    EVP_PKEY_get_raw_public_key(key.key.get(), reinterpret_cast<unsigned char*>(raw.data()), &len);
    raw.resize(len);
    return raw;
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.key.get(), &der);
  std::string out(reinterpret_cast<const char*>(der), len > 0 ? static_cast<std::size_t>(len) : 0);
  OPENSSL_free(der);
  return out;
}

std::string private_key_pem(const PrivateKey& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

util::Result<PrivateKey> generate_private_key(KeyType type, int bits) {
  if (type == KeyType::rsa && (bits < 1024 || bits > 8192)) return util::fail("RSA key size must be 1024..8192 bits");
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(
      EVP_PKEY_CTX_new_id(type == KeyType::rsa ? EVP_PKEY_RSA : EVP_PKEY_ED25519, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) return util::fail("key generation failed");
  if (type == KeyType::rsa && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) != 1) return util::fail("key generation failed");
  EVP_PKEY* k = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &k) != 1) return util::fail("key generation failed");
  PrivateKey out{type, EVP_PKEY_get_bits(k), wrap(k)};
  return out;
}

}  // namespace mailmoat::auth::dkim
