// The disclaimer action's TOML form. The text goes into every text part of a
// message's body, so it is held to what a mail body line may carry: no control
// characters other than line breaks and tabs, lines well under the 998-octet
// limit of RFC 5322 2.1.1 (the part's own line may be on the same line), valid UTF-8.
#include "policy/conditions_parse.h"

namespace mailmoat::policy {

namespace {

constexpr std::size_t kMaxText = 8000;
constexpr std::size_t kMaxLine = 900;

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else return false;
    if (i + n >= s.size() && n > 0) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return false;
    }
    i += n + 1;
  }
  return true;
}

// "" when `s` may go into a message body; otherwise why not.
std::string body_text_problem(const std::string& s) {
  if (s.size() > kMaxText) return "at most " + std::to_string(kMaxText) + " bytes";
  if (!valid_utf8(s)) return "not valid UTF-8";
  std::size_t line = 0;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      line = 0;
      continue;
    }
    if ((c < 0x20 && c != '\t') || c == 0x7F) return "control characters other than line breaks and tabs";
    if (++line > kMaxLine) return "lines of at most " + std::to_string(kMaxLine) + " bytes";
  }
  return {};
}

}  // namespace

std::optional<Action> disclaimer_action(const toml::node& value, std::string& problem) {
  const char* usage =
      "disclaimer: { text = \"...\", html = \"...\" (optional), position = \"append\" | \"prepend\", "
      "fallback = \"wrap\" | \"ignore\" | \"reject\" }";
  const toml::table* t = value.as_table();
  if (!t) {
    problem = usage;
    return std::nullopt;
  }
  Action a;
  a.kind = ActionKind::disclaimer;
  for (auto&& [key, v] : *t) {
    const std::string k(key.str());
    auto s = v.value<std::string>();
    if (!s) {
      problem = "disclaimer: " + k + " must be a string; " + usage;
      return std::nullopt;
    }
    if (k == "text" || k == "html") {
      // TOML strings carry "\n"; a CR would only come from a pasted CRLF file: normalise it.
      std::string text;
      for (std::size_t i = 0; i < s->size(); ++i)
        if (!((*s)[i] == '\r' && i + 1 < s->size() && (*s)[i + 1] == '\n')) text += (*s)[i];
      if (std::string why = body_text_problem(text); !why.empty()) {
        problem = "disclaimer: " + k + ": " + why;
        return std::nullopt;
      }
      (k == "text" ? a.disclaimer.text : a.disclaimer.html) = text;
    } else if (k == "position" && (*s == "append" || *s == "prepend")) {
      a.disclaimer.prepend = *s == "prepend";
    } else if (k == "fallback" && (*s == "wrap" || *s == "ignore" || *s == "reject")) {
      a.disclaimer.fallback = *s == "wrap"     ? DisclaimerFallback::wrap
                              : *s == "ignore" ? DisclaimerFallback::ignore
                                               : DisclaimerFallback::reject;
    } else {
      problem = usage;
      return std::nullopt;
    }
  }
  if (a.disclaimer.text.find_first_not_of(" \t\n") == std::string::npos) {
    problem = "disclaimer: text is required (the HTML form is made from it when html is not given)";
    return std::nullopt;
  }
  return a;
}

}  // namespace mailmoat::policy
