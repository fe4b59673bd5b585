#include "auth/spf/macro.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "util/strings.h"

namespace mailmoat::auth::spf {
namespace {

constexpr std::string_view delimiters = ".-+,/_=";

struct Macro {
  char letter = 0;  // lower case
  bool upper = false;
  std::size_t digits = 0;  // 0 = all parts
  bool reverse = false;
  std::string delims;
};

// Parses "%{...}" starting at text[pos] == '{'; advances pos past '}'.
util::Result<Macro> parse_macro(std::string_view text, std::size_t& pos, MacroUse use) {
  Macro m;
  ++pos;
  if (pos >= text.size()) return util::fail("unterminated macro");
  char c = text[pos++];
  m.upper = std::isupper(static_cast<unsigned char>(c));
  m.letter = util::ascii_lower(c);
  if (std::string_view("slodiphv").find(m.letter) == std::string_view::npos) {
    if (std::string_view("crt").find(m.letter) == std::string_view::npos || use != MacroUse::explanation)
      return util::fail(std::string("invalid macro letter '") + c + "'");
  }
  bool have_digits = false;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    have_digits = true;
    m.digits = std::min<std::size_t>(m.digits * 10 + static_cast<std::size_t>(text[pos] - '0'), 10000);
    ++pos;
  }
  if (have_digits && m.digits == 0) return util::fail("macro transformer digit 0");
  if (pos < text.size() && util::ascii_lower(text[pos]) == 'r') m.reverse = true, ++pos;
  while (pos < text.size() && delimiters.find(text[pos]) != std::string_view::npos) m.delims += text[pos++];
  if (pos >= text.size() || text[pos] != '}') return util::fail("malformed macro");
  ++pos;
  if (m.delims.empty()) m.delims = ".";
  return m;
}

// Walks a macro string; for each literal run or macro calls the visitors.
template <typename Literal, typename Expand>
util::Result<void> walk(std::string_view text, MacroUse use, Literal on_literal, Expand on_macro) {
  for (std::size_t pos = 0; pos < text.size();) {
    char c = text[pos];
    if (c != '%') {
      bool ok = (c >= 0x21 && c <= 0x7e) || (c == ' ' && use == MacroUse::explanation);
      if (!ok) return util::fail("invalid character in macro string");
      on_literal(std::string_view(&text[pos], 1));
      ++pos;
      continue;
    }
    if (pos + 1 >= text.size()) return util::fail("'%' at end of macro string");
    char n = text[pos + 1];
    if (n == '%') on_literal("%"), pos += 2;
    else if (n == '_') on_literal(" "), pos += 2;
    else if (n == '-') on_literal("%20"), pos += 2;
    else if (n == '{') {
      ++pos;
      auto m = parse_macro(text, pos, use);
      if (!m) return std::unexpected(m.error());
      on_macro(*m);
    } else {
      return util::fail("invalid '%' escape in macro string");
    }
  }
  return {};
}

bool is_toplabel(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  bool alpha = false;
  for (char c : label) {
    if (std::isalpha(static_cast<unsigned char>(c))) alpha = true;
    else if (!std::isdigit(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  if (label.front() == '-' || label.back() == '-') return false;
  // all-alphanumeric labels need a letter; hyphenated ones may be digits only
  return alpha || label.find('-') != std::string_view::npos;
}

std::string url_escape(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') out += static_cast<char>(c);
    else out += '%', out += hex[c >> 4], out += hex[c & 0xf];
  }
  return out;
}

std::string nibbles(const dns::IpAddress& ip) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i) out += '.';
    out += hex[ip.bytes[i] >> 4];
    out += '.';
    out += hex[ip.bytes[i] & 0xf];
  }
  return out;
}

std::string letter_value(char letter, const MacroContext& ctx) {
  switch (letter) {
    case 's': return ctx.sender;
    case 'l': return ctx.local_part;
    case 'o': return ctx.sender_domain;
    case 'd': return ctx.domain;
    case 'i': return ctx.ip.v6 ? nibbles(ctx.ip) : ctx.ip.to_string();
    case 'c': return ctx.ip.to_string();
    case 'p': return ctx.validated_name;
    case 'h': return ctx.helo;
    case 'v': return ctx.ip.v6 ? "ip6" : "in-addr";
    case 'r': return ctx.receiver.empty() ? "unknown" : ctx.receiver;
    case 't': return std::to_string(ctx.now);
    default: break;  // other letters are refused before expansion
  }
  return {};
}

std::string transform(const Macro& m, const MacroContext& ctx) {
  std::string value = letter_value(m.letter, ctx);
  std::vector<std::string> parts;
  std::string cur;
  for (char c : value) {
    if (m.delims.find(c) != std::string::npos) parts.push_back(std::move(cur)), cur.clear();
    else cur += c;
  }
  parts.push_back(std::move(cur));
  if (m.reverse) std::reverse(parts.begin(), parts.end());
  std::size_t first = m.digits && m.digits < parts.size() ? parts.size() - m.digits : 0;
  std::string out;
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return m.upper ? url_escape(out) : out;
}

}  // namespace

util::Result<void> check_macro_string(std::string_view text, MacroUse use) {
  return walk(text, use, [](std::string_view) {}, [](const Macro&) {});
}

util::Result<void> check_domain_spec(std::string_view text) {
  if (auto ok = check_macro_string(text, MacroUse::domain); !ok) return ok;
  if (text.empty()) return util::fail("empty domain-spec");
  if (text.back() == '}') {
    // ends with a macro-expand, unless that '}' is a literal after "%%"-style text
    std::size_t open = text.rfind("%{");
    if (open != std::string_view::npos && text.find('}', open) == text.size() - 1) return {};
  }
  std::string_view t = text;
  if (t.back() == '.') t.remove_suffix(1);
  std::size_t dot = t.rfind('.');
  if (dot == std::string_view::npos) return util::fail("domain-spec has no top-level label");
  if (!is_toplabel(t.substr(dot + 1))) return util::fail("domain-spec ends in an invalid top-level label");
  return {};
}

bool uses_p_macro(std::string_view text) {
  bool found = false;
  (void)walk(text, MacroUse::explanation, [](std::string_view) {},
             [&](const Macro& m) { found = found || m.letter == 'p'; });
  return found;
}

util::Result<std::string> expand(std::string_view text, const MacroContext& ctx, MacroUse use) {
  std::string out;
  auto ok = walk(text, use, [&](std::string_view lit) { out += lit; },
                 [&](const Macro& m) { out += transform(m, ctx); });
  if (!ok) return std::unexpected(ok.error());
  if (use == MacroUse::domain) {
    if (!out.empty() && out.back() == '.') out.pop_back();
    while (out.size() > 253) {
      std::size_t dot = out.find('.');
      if (dot == std::string::npos) break;
      out.erase(0, dot + 1);
    }
  }
  return out;
}

}  // namespace mailmoat::auth::spf
