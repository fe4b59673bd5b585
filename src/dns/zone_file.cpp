#include "dns/zone_file.h"

#include <cctype>
#include <optional>

#include "util/strings.h"

namespace mailmoat::dns {
namespace {

struct Token {
  std::string text;
  bool quoted = false;
};

struct Line {
  std::vector<Token> tokens;
  bool starts_blank = false;  // owner omitted: reuse the previous one
  int number = 0;
};

// Splits the text into logical lines (parentheses join physical lines).
class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  // nullopt at end of input; an Error for unbalanced quotes or parentheses.
  util::Result<std::optional<Line>> next() {
    while (pos_ < text_.size()) {
      Line line;
      line.number = line_no_;
      line.starts_blank = text_[pos_] == ' ' || text_[pos_] == '\t';
      int depth = 0;
      for (;;) {
        if (pos_ >= text_.size()) {
          if (depth > 0) return error(line.number, "unbalanced parenthesis");
          break;
        }
        char c = text_[pos_];
        if (c == '\n') {
          ++pos_;
          ++line_no_;
          if (depth == 0) break;
        } else if (c == ' ' || c == '\t' || c == '\r') {
          ++pos_;
        } else if (c == ';') {
          while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
        } else if (c == '(') {
          ++depth, ++pos_;
        } else if (c == ')') {
          if (--depth < 0) return error(line_no_, "unbalanced parenthesis");
          ++pos_;
        } else {
          auto tok = token();
          if (!tok) return std::unexpected(tok.error());
          line.tokens.push_back(std::move(*tok));
        }
      }
      if (!line.tokens.empty()) return std::optional<Line>(std::move(line));
    }
    return std::optional<Line>();
  }

 private:
  util::Result<Token> token() {
    Token tok;
    tok.quoted = text_[pos_] == '"';
    if (tok.quoted) ++pos_;
    for (;;) {
      if (pos_ >= text_.size()) {
        if (tok.quoted) return error(line_no_, "unterminated quoted string");
        return tok;
      }
      char c = text_[pos_];
      // Exactly the separators next() skips, so every token consumes input.
      if (tok.quoted ? c == '"' : (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' ||
                                   c == '(' || c == ')' || c == '"')) {
        if (tok.quoted) ++pos_;
        return tok;
      }
      if (c == '\n') ++line_no_;
      if (c == '\\') {
        if (!escape(tok.text)) return error(line_no_, "bad escape");
        continue;
      }
      tok.text += c;
      ++pos_;
    }
  }

  // \DDD is a decimal octet, \X is X itself.
  bool escape(std::string& out) {
    ++pos_;
    if (pos_ >= text_.size()) return false;
    auto digit = [&](std::size_t i) {
      return i < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i]));
    };
    if (digit(pos_)) {
      if (!digit(pos_ + 1) || !digit(pos_ + 2)) return false;
      int v = (text_[pos_] - '0') * 100 + (text_[pos_ + 1] - '0') * 10 + (text_[pos_ + 2] - '0');
      if (v > 255) return false;
      out += static_cast<char>(v);
      pos_ += 3;
      return true;
    }
    if (text_[pos_] == '\n') ++line_no_;
    out += text_[pos_++];
    return true;
  }

  util::Error make(int line, std::string_view why) const {
    return util::Error{std::string(source_) + ":" + std::to_string(line) + ": " + std::string(why)};
  }
  std::unexpected<util::Error> error(int line, std::string_view why) const {
    return std::unexpected(make(line, why));
  }

  std::string_view text_, source_;
  std::size_t pos_ = 0;
  int line_no_ = 1;
};

// TTLs as seconds, or with BIND's unit letters (1h30m).
std::optional<std::uint32_t> parse_ttl(std::string_view s) {
  if (auto v = util::parse_uint(s)) return *v <= 0x7fffffff ? std::optional<std::uint32_t>(*v) : std::nullopt;
  std::uint64_t total = 0, cur = 0;
  bool any = false;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      cur = cur * 10 + static_cast<unsigned>(c - '0');
      any = true;
      if (cur > 0x7fffffff) return std::nullopt;
      continue;
    }
    std::uint64_t unit = 0;
    switch (util::ascii_lower(c)) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 604800; break;
      default: return std::nullopt;
    }
    if (!any) return std::nullopt;
    total += cur * unit;
    cur = 0;
    any = false;
  }
  if (any || total > 0x7fffffff) return std::nullopt;
  return static_cast<std::uint32_t>(total);
}

bool is_class(std::string_view s) {
  return util::iequals(s, "IN") || util::iequals(s, "CH") || util::iequals(s, "HS") ||
         util::iequals(s, "CS");
}

}  // namespace

std::string absolute_name(std::string_view name, std::string_view origin) {
  if (name == "@") return util::to_lower(origin);
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
    return util::to_lower(name);
  }
  if (origin.empty()) return util::to_lower(name);
  return util::to_lower(std::string(name) + "." + std::string(origin));
}

util::Result<std::vector<ZoneEntry>> parse_master_file(std::string_view text,
                                                       std::string_view origin_in,
                                                       std::string_view source,
                                                       std::uint32_t default_ttl) {
  Lexer lexer(text, source);
  std::string origin = absolute_name(origin_in, "");
  std::string owner = origin;
  std::uint32_t ttl = default_ttl;
  std::vector<ZoneEntry> out;
  auto error = [&](int line, const std::string& why) {
    return util::fail(std::string(source) + ":" + std::to_string(line) + ": " + why);
  };
  for (;;) {
    auto next = lexer.next();
    if (!next) return std::unexpected(next.error());
    if (!*next) break;
    Line& line = **next;
    auto& toks = line.tokens;
    std::size_t i = 0;
    if (!line.starts_blank && !toks[0].quoted && toks[0].text.starts_with("$")) {
      std::string directive = util::to_lower(toks[0].text);
      if (toks.size() < 2) return error(line.number, directive + " needs an argument");
      if (directive == "$origin") {
        origin = absolute_name(toks[1].text, origin);
      } else if (directive == "$ttl") {
        auto v = parse_ttl(toks[1].text);
        if (!v) return error(line.number, "bad $TTL \"" + toks[1].text + "\"");
        ttl = *v;
      } else {
        return error(line.number, "unsupported directive " + toks[0].text);
      }
      continue;
    }
    if (!line.starts_blank) owner = absolute_name(toks[i++].text, origin);
    ZoneEntry entry{owner, ttl, "", {}, origin, line.number};
    for (; i < toks.size(); ++i) {
      if (is_class(toks[i].text)) continue;
      if (auto v = parse_ttl(toks[i].text); v && std::isdigit(static_cast<unsigned char>(toks[i].text[0]))) {
        entry.ttl = *v;
        continue;
      }
      break;
    }
    if (i >= toks.size()) return error(line.number, "record without a type");
    std::string type;
    for (char c : toks[i].text) type += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    entry.type = type;
    for (++i; i < toks.size(); ++i) entry.rdata.push_back(toks[i].text);
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace mailmoat::dns
