// libFuzzer target: the GMime walk of triage (attachments, names, decoding)
// and part replacement.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/mime_parts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto walk = mailmoat::attachments::walk_mime(bytes);
  if (!walk.parts.empty())
    (void)mailmoat::attachments::replace_parts(bytes, {{walk.parts.front().leaf_index, "removed"}});
  return 0;
}
