// libFuzzer target: DKIM-Signature tag lists and signature parsing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "auth/dkim/signature.h"
#include "auth/dkim/tag_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tags = mailmoat::auth::dkim::TagList::parse(text);
  if (tags)
    for (const auto& t : tags->tags()) (void)mailmoat::auth::dkim::blank_tag_value(text, t);
  (void)mailmoat::auth::dkim::parse_signature(text);
  (void)mailmoat::auth::dkim::parse_canon(text);
  return 0;
}
