// Instruction counts per RSA-2048 DKIM verification, for callgrind: the
// machine these benchmarks run on is shared and noisy, so wall-clock rates
// move by 10% between runs while instruction counts do not. `mailmoat` runs
// the same loop as dkim_bench's BM_VerifyRsa2048; `openssl` runs the work of
// the bound (SHA-256 over the message bytes plus one EVP_PKEY_verify on a
// cached context), so the two counts give an instruction ratio.
// bench/dkim/instructions runs both under callgrind and prints the figures.
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "mail/message.h"

namespace {

using namespace mailmoat;
using namespace mailmoat::auth::dkim;

std::string ten_kb_message() {
  std::string m =
      "From: Joe <joe@example.com>\r\nTo: Sue <sue@example.org>\r\nSubject: Quarterly report\r\n"
      "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  const std::string line = "The quick brown fox jumps over the lazy dog, again and  again.\t \r\n";
  while (m.size() < 10240) m += line;
  return m;
}

// Not inlined: callgrind collects only inside these (--toggle-collect).
[[gnu::noinline]] int measured_mailmoat(const std::string& text, const ResolvedKeyPtr& key, int n) {
  VerifyOptions o;
  o.now = 1764300000;
  int passed = 0;
  for (int i = 0; i < n; ++i) {
    auto m = mail::Message::parse(text);
    Verification v(*m, o);
    v.add_resolved_key("rsa._domainkey.example.com", key);
    auto r = v.results();
    passed += r.size() == 1 && r[0].result == Result::pass;
  }
  return passed;
}

[[gnu::noinline]] int measured_openssl(EVP_PKEY_CTX* ctx, const EVP_MD* md, const std::string& text,
                                       const std::string& sig, int n) {
  int passed = 0;
  for (int i = 0; i < n; ++i) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned len = 0;
    EVP_Digest(text.data(), text.size(), digest.data(), &len, md, nullptr);
    passed += EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(), digest.data(), len) == 1;
  }
  return passed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "mailmoat") != 0 && std::strcmp(argv[1], "openssl") != 0)) {
    std::fprintf(stderr, "usage: %s mailmoat|openssl ITERATIONS\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[2]);
  const std::string message = ten_kb_message();
  PrivateKey rsa = *generate_private_key(KeyType::rsa, 2048);
  auto parsed = mail::Message::parse(message);
  const std::string signed_rsa = *SignerBuilder("example.com", "rsa", rsa).build()->sign(*parsed, 1764300000) + message;
  int passed = 0;
  if (std::strcmp(argv[1], "mailmoat") == 0) {
    dns::Answer a;
    a.status = dns::Status::ok;
    a.txt = {key_record_for(rsa)};
    ResolvedKeyPtr key = resolve_key(a, "rsa._domainkey.example.com");
    measured_mailmoat(signed_rsa, key, 3);  // warm: contexts and caches set up once
    passed = measured_mailmoat(signed_rsa, key, n);
  } else {
    const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, rsa.key.get(), nullptr);
    EVP_PKEY_verify_init(ctx);
    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
    EVP_PKEY_CTX_set_signature_md(ctx, md);
    const std::string sig = *sign_data(rsa, signed_rsa);  // RSASSA-PKCS1-v1_5 over its SHA-256
    measured_openssl(ctx, md, signed_rsa, sig, 3);
    passed = measured_openssl(ctx, md, signed_rsa, sig, n);
    EVP_PKEY_CTX_free(ctx);
  }
  std::printf("%d of %d\n", passed, n);
  return passed == n ? 0 : 1;
}
