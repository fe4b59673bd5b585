// libFuzzer target: the streaming HTML scanner (src/links/html_scan.cpp) against
// gumbo's tree builder (tests/links/gumbo_oracle.cpp, the previous extraction).
// Every link gumbo finds must be found by the scanner at the same offset with the
// same URL (gumbo reads invalid UTF-8 as U+FFFD; compared in its terms). The
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
#include "links/extract.h"

namespace {

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

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
  // Invalid UTF-8 and NUL bytes are read differently on purpose (see above); CR is
  // normalised to LF by gumbo's input stream, which moves no offsets but changes values.
  if (!valid_utf8(html) || html.find('\0') != std::string_view::npos || mentions_isindex(html)) return 0;
  for (bool images : {false, true}) {
    auto mine = mailmoat::links::find_html_urls(html, {images});
    auto oracle = mailmoat::links::gumbo_find_html_urls(html, {images});
    std::map<std::size_t, const mailmoat::links::UrlSite*> by_offset;
    for (const auto& s : mine.sites) by_offset[s.offset] = &s;
    for (const auto& s : oracle.sites) {
      auto it = by_offset.find(s.offset);
      if (it == by_offset.end() || it->second->length != s.length || it->second->url != s.url) std::abort();
    }
  }
  return 0;
}
