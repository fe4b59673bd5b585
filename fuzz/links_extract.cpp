// libFuzzer target: URL extraction from plain text and HTML (the streaming scanner). Every site
// must lie inside the input, in order, without overlaps.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "links/extract.h"

namespace {
void check(const std::vector<mailmoat::links::UrlSite>& sites, std::size_t size) {
  std::size_t end = 0;
  for (const auto& s : sites) {
    if (s.offset < end || s.offset + s.length > size || s.url.empty()) std::abort();
    end = s.offset + s.length;
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check(mailmoat::links::find_text_urls(text), size);
  check(mailmoat::links::find_html_urls(text, {true}).sites, size);
  return 0;
}
