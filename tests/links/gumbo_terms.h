// How gumbo 0.10 reads input, for comparing the scanner's URLs with it: every
// part is read as UTF-8, invalid bytes become U+FFFD, and so do the control
// characters and noncharacters that its input stream rejects (U+0001-0008,
// U+000B, U+000E-001F, U+007F-009F, U+FDD0-FDEF, U+xFFFE/xFFFF). The scanner
// keeps the part's bytes (a Latin-1 part is not invalid UTF-8) and, as the HTML
// standard's input stream does, keeps control characters (they are parse errors,
// not replaced); the URL is percent-encoded into the rewritten link either way.
// A run of U+FFFD (replaced or written) compares as one.
#pragma once

#include <string>
#include <string_view>

namespace mailmoat::links {

inline bool gumbo_replaces(char32_t c) {
  return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) ||
         (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFF) == 0xFFFE || (c & 0xFFFF) == 0xFFFF;
}

inline std::string as_gumbo_reads(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    char32_t cp = c;
    if (ok && n > 1) {
      cp = c & (0xFF >> (n + 1));
      for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      ok = cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok && !gumbo_replaces(cp) && cp != 0xFFFD) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      // How many U+FFFD an invalid sequence makes differs between decoders (gumbo: one
      // per byte; WHATWG: one per maximal subpart): a run of them counts as one.
      if (!out.ends_with("\xEF\xBF\xBD")) out += "\xEF\xBF\xBD";
      std::size_t end = ok ? i + n : i + 1;
      while (!ok && n > 1 && end < s.size() && end < i + n && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
        ++end;
      i = end;
    }
  }
  return out;
}

}  // namespace mailmoat::links
