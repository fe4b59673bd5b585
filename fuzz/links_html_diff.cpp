// libFuzzer target: the streaming HTML scanner (src/links/html_scan.cpp) against
// gumbo's tree builder (tests/links/gumbo_oracle.cpp, the previous extraction).
// Every link gumbo finds must be found by the scanner at the same offset with the
// same URL (both compared as gumbo reads raw input, gumbo_terms.h: a control
// character from a character reference is kept by both, a raw one only by the scanner). The
// scanner may report more: start tags the tree builder drops (a nested <form>,
// tags in <select> or <frameset>) are still reported, which is harmless (see
// HtmlScanDiff.IntendedDifferences). <isindex>, which gumbo 0.10 still turns into
// a form and browsers no longer do, is not compared; nor are gumbo's other known
// misreadings, each explained where it is skipped.
#include <cstddef>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "gumbo_oracle.h"
#include "gumbo_terms.h"
#include "links/extract.h"
#include "links/url.h"

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

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// gumbo 0.10 overflows on a numeric character reference of many digits and then
// misreads what follows ("&#x1100ffffffffffffffnle" gives "&le"); the standard
// consumes every digit and gives U+FFFD (HtmlScanDiff.IntendedDifferences).
bool long_numeric_reference(std::string_view s) {
  for (std::size_t at = s.find("&#"); at != std::string_view::npos; at = s.find("&#", at + 2)) {
    std::size_t k = at + 2, digits = 0;
    if (k < s.size() && (s[k] == 'x' || s[k] == 'X')) ++k;
    while (k < s.size() && std::isxdigit(static_cast<unsigned char>(s[k]))) ++k, ++digits;
    if (digits > 7) return true;
  }
  return false;
}

// gumbo 0.10 mishandles a repeated attribute without a value: it then drops the
// next attribute and keeps a later repetition of that one ("<img x x src=a src=b>"
// gives src=b; the standard keeps the first src, a). A gumbo-only site is accepted
// when its attribute name already appeared shortly before it.
bool repeated_attribute(std::string_view s, std::size_t value_offset) {
  std::size_t k = value_offset;
  while (k > 0 && (s[k - 1] == '=' || s[k - 1] == ' ' || s[k - 1] == '\t' || s[k - 1] == '\n' || s[k - 1] == '\r' ||
                   s[k - 1] == '\f'))
    --k;
  std::size_t name_end = k;
  while (k > 0 && s[k - 1] != ' ' && s[k - 1] != '\t' && s[k - 1] != '\n' && s[k - 1] != '\r' && s[k - 1] != '\f' &&
         s[k - 1] != '/' && s[k - 1] != '"' && s[k - 1] != '\'')
    --k;
  std::string name(s.substr(k, name_end - k));
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // Where the tag began is not known here (names may hold '<', values '>'): the name
  // must occur in the 1 KB before. Weaker than exact, and only for gumbo-only sites.
  std::size_t start = k > 1024 ? k - 1024 : 0;
  if (name.empty()) return false;
  std::string before(s.substr(start, k - start));
  for (auto& c : before) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return before.find(name) != std::string::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view html(reinterpret_cast<const char*>(data), size);
  // A raw ASCII control character is U+FFFD to gumbo but stays a control to the
  // scanner, and clean_attribute_url then trims it at either end of a URL: not comparable.
  for (unsigned char c : html)
    if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F) return 0;
  if (mentions_isindex(html) || long_numeric_reference(html)) return 0;
  const bool utf8 = valid_utf8(html);
  std::string lower(html);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t first_base = lower.find("<base");
  const bool several_bases = first_base != std::string::npos && lower.find("<base", first_base + 1) != std::string::npos;
  for (bool images : {false, true}) {
    auto mine = mailmoat::links::find_html_urls(html, {images});
    auto oracle = mailmoat::links::gumbo_find_html_urls(html, {images});
    std::map<std::size_t, const mailmoat::links::UrlSite*> by_offset, by_end;
    for (const auto& s : mine.sites) by_offset[s.offset] = &s, by_end[s.offset + s.length] = &s;
    for (auto s : oracle.sites) {
      // gumbo 0.10 starts the source span of an unquoted value that begins with a
      // character reference after that reference ("href=&#104;ttp:..."): the scanner's
      // span is the whole value. Compared by where the value ends.
      if (auto e = by_end.find(s.offset + s.length); e != by_end.end() && e->second->offset < s.offset &&
                                                      html[e->second->offset] == '&') {
        s.length += s.offset - e->second->offset;
        s.offset = e->second->offset;
      }
      auto it = by_offset.find(s.offset);
      if (it == by_offset.end() && repeated_attribute(html, s.offset)) continue;
      // With invalid UTF-8, gumbo's U+FFFD and the scanner's raw bytes diverge once
      // line breaks are removed from the URL (a lead byte, LF, a continuation byte):
      // the sites must still be the same, the URLs are compared only for valid input.
      if (it != by_offset.end() && !utf8 && it->second->length == s.length) continue;
      // Several <base>: the scanner takes the first web one of the source, gumbo the
      // first of its tree (HtmlScanDiff.IntendedDifferences); relative URLs may differ.
      if (it != by_offset.end() && several_bases && it->second->length == s.length) continue;
      // ...and a relative URL the scanner's first web <base> cannot resolve (gumbo took another) it leaves.
      if (it == by_offset.end() && several_bases &&
          !mailmoat::links::is_web_url(mailmoat::links::clean_attribute_url(std::string(html.substr(s.offset, s.length)))))
        continue;
      if (it == by_offset.end() || it->second->length != s.length || mailmoat::links::as_gumbo_reads(it->second->url) != mailmoat::links::as_gumbo_reads(s.url)) std::abort();
    }
  }
  return 0;
}
