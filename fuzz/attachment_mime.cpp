// libFuzzer target: the GMime walk of triage (attachments, names, decoding)
// and part replacement; and the quick test that lets mail skip the walk, which
// must never say "no attachment" where the walk finds one (a finding if it does).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/mime_parts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto walk = mailmoat::attachments::walk_mime(bytes);
  if (mailmoat::attachments::surely_without_attachments(bytes) && !walk.parts.empty()) __builtin_trap();
  if (!walk.parts.empty())
    (void)mailmoat::attachments::replace_parts(bytes, {{walk.parts.front().leaf_index, "removed"}});
  return 0;
}
