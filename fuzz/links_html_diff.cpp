// libFuzzer target: the streaming HTML scanner (src/links/html_scan.cpp) against
// gumbo's tree builder (tests/links/gumbo_oracle.cpp, the previous extraction).
// Every link gumbo finds must be found by the scanner at the same offset with the
// same URL (compared as gumbo reads input: gumbo_terms.h). The
// scanner may report more: start tags the tree builder drops (a nested <form>,
// tags in <select> or <frameset>) are still reported, which is harmless (see
// HtmlScanDiff.IntendedDifferences). <isindex>, which gumbo 0.10 still turns into
// a form and browsers no longer do, is not compared.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "gumbo_oracle.h"
#include "gumbo_terms.h"
#include "links/extract.h"

namespace {

bool mentions_isindex(std::string_view s) {
  for (std::size_t i = 0; i + 7 <= s.size(); ++i) {
    std::string_view w = s.substr(i, 7);
    bool match = true;
    for (std::size_t k = 0; k < 7 && match; ++k) match = (w[k] | 0x20) == "isindex"[k];
    if (match) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  if (mentions_isindex(html)) return 0;
  for (bool images : {false, true}) {
    auto mine = mailmoat::links::find_html_urls(html, {images});
    auto oracle = mailmoat::links::gumbo_find_html_urls(html, {images});
    std::map<std::size_t, const mailmoat::links::UrlSite*> by_offset;
    for (const auto& s : mine.sites) by_offset[s.offset] = &s;
    for (const auto& s : oracle.sites) {
      auto it = by_offset.find(s.offset);
      if (it == by_offset.end() || it->second->length != s.length || mailmoat::links::as_gumbo_reads(it->second->url) != s.url) std::abort();
    }
  }
  return 0;
}
