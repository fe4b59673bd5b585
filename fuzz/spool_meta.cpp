// Spool metadata as read back at recovery (a damaged file must be refused, not crash).
#include <cstdint>
#include <string_view>

#include "queue/spool.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = mailmoat::queue::decode_meta(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r) mailmoat::queue::encode_meta(*r);
  return 0;
}
