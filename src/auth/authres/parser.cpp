// RFC 8601 §2.2 parser over a field value, with CFWS (RFC 5322 §3.2.2:
// whitespace, folding and nested comments) skipped between every element.
// The first comment after a result is kept as that result's comment.
#include <cctype>

#include "auth/authres/authres.h"
#include "util/strings.h"

namespace mailmoat::auth::authres {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  bool eat(char c) {
    skip_cfws();
    if (peek() != c) return false;
    ++pos_;
    return true;
  }

  // Skips whitespace and comments; returns the text of the first comment.
  std::string skip_cfws() {
    std::string first;
    bool have = false;
    while (!at_end()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '(') {
        std::string text = comment();
        if (!have) first = std::move(text), have = true;
      } else {
        break;
      }
    }
    return first;
  }

  // Keyword-like runs: letters, digits, '-', '_', '.'-free.
  std::string keyword() {
    skip_cfws();
    std::size_t start = pos_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '-' || peek() == '_')) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  // value = token / quoted-string; `extra` lets '@' and '/' etc. through for pvalues.
  std::optional<std::string> value(bool pvalue) {
    skip_cfws();
    if (peek() == '"') return quoted_string();
    std::size_t start = pos_;
    while (!at_end()) {
      unsigned char c = static_cast<unsigned char>(peek());
      if (c <= 32 || c == 127 || c == ';' || c == '(' || c == ')' || c == '"') break;
      if (!pvalue && std::string_view("<>@,:\\/[]?=").find(static_cast<char>(c)) != std::string_view::npos) break;
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return std::string(s_.substr(start, pos_ - start));
  }

  std::size_t position() const { return pos_; }
  bool broken() const { return broken_; }

 private:
  std::string comment() {
    std::string text;
    int depth = 0;
    while (!at_end()) {
      char c = s_[pos_++];
      if (c == '\\' && !at_end()) {
        text += s_[pos_++];
        continue;
      }
      if (c == '(') {
        if (depth++ > 0) text += c;
        continue;
      }
      if (c == ')') {
        if (--depth == 0) break;
        text += c;
        continue;
      }
      if (c == '\r' || c == '\n') continue;
      // Unfolded whitespace (CRLF TAB) reads as one space.
      if (c == ' ' || c == '\t') {
        if (!text.empty() && text.back() != ' ') text += ' ';
        continue;
      }
      text += c;
    }
    if (depth > 0) broken_ = true;
    return std::string(util::trim(text));
  }

  std::optional<std::string> quoted_string() {
    ++pos_;
    std::string out;
    while (!at_end()) {
      char c = s_[pos_++];
      if (c == '"') return out;
      if (c == '\\' && !at_end()) c = s_[pos_++];
      if (c != '\r' && c != '\n') out += c;
    }
    return std::nullopt;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool broken_ = false;  // an unterminated comment
};

util::Error error(const Cursor& c, const std::string& what) {
  return util::Error{what + " at offset " + std::to_string(c.position())};
}

std::optional<unsigned> version_number(Cursor& c) {
  std::string digits = c.keyword();
  auto v = util::parse_uint(digits);
  if (!v || *v > 1000) return std::nullopt;
  return static_cast<unsigned>(*v);
}

util::Result<MethodResult> resinfo(Cursor& c) {
  MethodResult m;
  m.method = util::to_lower(c.keyword());
  if (m.method.empty()) return std::unexpected(error(c, "expected a method"));
  if (c.eat('/')) {
    m.version = version_number(c);
    if (!m.version) return std::unexpected(error(c, "bad method version"));
  }
  if (!c.eat('=')) return std::unexpected(error(c, "expected '=' after method " + m.method));
  m.result = util::to_lower(c.keyword());
  if (m.result.empty()) return std::unexpected(error(c, "expected a result for " + m.method));
  m.comment = c.skip_cfws();
  while (!c.at_end() && c.peek() != ';') {
    std::string ptype = util::to_lower(c.keyword());
    if (ptype.empty()) return std::unexpected(error(c, "expected a property"));
    if (ptype == "reason" && c.eat('=')) {
      auto v = c.value(false);
      if (!v) return std::unexpected(error(c, "bad reason"));
      m.reason = *v;
    } else if (c.eat('=')) {
      // Not RFC 8601 (it wants ptype.property), but common: EOP's action=.
      auto v = c.value(true);
      if (!v) return std::unexpected(error(c, "missing value for " + ptype));
      m.properties.push_back(Property{"", ptype, *v});
    } else {
      if (!c.eat('.')) return std::unexpected(error(c, "expected '.' after " + ptype));
      std::string name = c.keyword();
      if (name.empty() || !c.eat('=')) return std::unexpected(error(c, "bad property " + ptype));
      auto v = c.value(true);
      if (!v) return std::unexpected(error(c, "missing value for " + ptype + "." + name));
      m.properties.push_back(Property{ptype, util::to_lower(name), *v});
    }
    std::string note = c.skip_cfws();
    if (m.comment.empty()) m.comment = note;
  }
  return m;
}

}  // namespace

util::Result<AuthenticationResults> parse(std::string_view text) {
  Cursor c(text);
  AuthenticationResults ar;
  auto id = c.value(false);
  if (!id) return std::unexpected(error(c, "expected an authserv-id"));
  ar.authserv_id = *id;
  c.skip_cfws();
  if (std::isdigit(static_cast<unsigned char>(c.peek()))) ar.version = version_number(c);
  if (!c.eat(';')) return std::unexpected(error(c, "expected ';' after the authserv-id"));
  c.skip_cfws();
  std::size_t save = c.position();
  if (util::iequals(c.keyword(), "none")) {
    c.skip_cfws();
    if (c.at_end() && !c.broken()) return ar;
    return std::unexpected(error(c, "text after \"none\""));
  }
  Cursor again(text.substr(save));
  c = again;
  for (;;) {
    c.skip_cfws();
    if (c.at_end()) break;
    auto m = resinfo(c);
    if (!m) return std::unexpected(m.error());
    ar.results.push_back(std::move(*m));
    c.skip_cfws();
    if (c.at_end()) break;
    if (!c.eat(';')) return std::unexpected(error(c, "expected ';' between results"));
  }
  if (c.broken()) return std::unexpected(error(c, "unterminated comment"));
  if (ar.results.empty()) return std::unexpected(error(c, "no results"));
  return ar;
}

util::Result<ArcAuthenticationResults> parse_arc(std::string_view value) {
  std::size_t semi = value.find(';');
  if (semi == std::string_view::npos) return util::fail("expected \"i=N;\"");
  std::string_view tag = util::trim(value.substr(0, semi));
  if (!tag.starts_with("i") || util::trim(tag.substr(1)).substr(0, 1) != "=")
    return util::fail("expected \"i=N;\"");
  auto n = util::parse_uint(util::trim(util::trim(tag.substr(1)).substr(1)));
  if (!n || *n < 1 || *n > 50) return util::fail("ARC instance must be 1..50");
  auto ar = parse(value.substr(semi + 1));
  if (!ar) return std::unexpected(ar.error());
  return ArcAuthenticationResults{static_cast<unsigned>(*n), std::move(*ar)};
}

std::optional<std::string> authserv_id_of(std::string_view value) {
  Cursor c(value);
  auto id = c.value(false);
  return id;
}

namespace {

// Splits a header block into fields (a field is a line plus its continuations).
std::vector<std::string_view> fields_of(std::string_view header) {
  std::vector<std::string_view> out;
  std::size_t start = 0, pos = 0;
  while (pos < header.size()) {
    std::size_t nl = header.find('\n', pos);
    std::size_t end = nl == std::string_view::npos ? header.size() : nl + 1;
    bool continues = end < header.size() && (header[end] == ' ' || header[end] == '\t');
    pos = end;
    if (!continues) {
      out.push_back(header.substr(start, end - start));
      start = end;
    }
  }
  return out;
}

}  // namespace

Stripped remove_own_results(std::string_view header, std::string_view authserv_id) {
  Stripped out;
  for (auto field : fields_of(header)) {
    std::size_t colon = field.find(':');
    bool ours = false;
    if (colon != std::string_view::npos && util::iequals(util::trim(field.substr(0, colon)), "Authentication-Results")) {
      auto id = authserv_id_of(field.substr(colon + 1));
      ours = id && util::iequals(*id, authserv_id);
    }
    if (ours) ++out.removed;
    else out.header += field;
  }
  return out;
}

}  // namespace mailmoat::auth::authres
