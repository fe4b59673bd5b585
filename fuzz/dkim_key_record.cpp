// libFuzzer target: DKIM key records, including loading the p= key.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/dkim/crypto.h"
#include "auth/dkim/key_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto k = mailmoat::auth::dkim::parse_key_record(text);
  if (k && !k->revoked) (void)mailmoat::auth::dkim::load_public_key(k->type, k->key_data);
  (void)mailmoat::auth::dkim::base64_decode(text);
  return 0;
}
