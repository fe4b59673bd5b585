#include "attachments/digest.h"

#include <openssl/evp.h>

namespace mailmoat::attachments {

std::string sha256_hex(std::string_view bytes) {
  // Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up per call.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{len} * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

}  // namespace mailmoat::attachments
