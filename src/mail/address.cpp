#include "mail/address.h"

#include "util/strings.h"

namespace mailmoat::mail {
namespace {

// A token stream with comments removed and quoted strings unescaped; special
// characters are single tokens. This is all the lexing alignment needs.
struct Token {
  enum Kind { atom, quoted, special } kind;
  std::string text;
};

util::Result<std::size_t> skip_comment(std::string_view s, std::size_t i) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    if (s[i] == '\\') { ++i; continue; }
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) return i + 1;
  }
  return util::fail("unbalanced comment");
}

util::Result<std::vector<Token>> tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') { ++i; continue; }
    if (c == '(') {
      auto next = skip_comment(s, i);
      if (!next) return std::unexpected(next.error());
      i = *next;
      continue;
    }
    if (c == '"') {
      std::string text;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        text.push_back(s[i]);
      }
      if (i >= s.size()) return util::fail("unterminated quoted string");
      ++i;
      out.push_back({Token::quoted, std::move(text)});
      continue;
    }
    if (c == '[') {  // domain literal kept as one atom
      std::size_t e = s.find(']', i);
      if (e == std::string_view::npos) return util::fail("unterminated domain literal");
      out.push_back({Token::atom, std::string(s.substr(i, e + 1 - i))});
      i = e + 1;
      continue;
    }
    if (std::string_view("<>@,;:.").find(c) != std::string_view::npos) {
      out.push_back({Token::special, std::string(1, c)});
      ++i;
      continue;
    }
    if (c == ')') return util::fail("unbalanced comment");
    std::size_t start = i;
    while (i < s.size() && std::string_view(" \t\r\n()\"[<>@,;:.").find(s[i]) == std::string_view::npos) ++i;
    if (i == start) ++i;  // always make progress, whatever the character
    out.push_back({Token::atom, std::string(s.substr(start, i - start))});
  }
  return out;
}

bool is_special(const Token& t, char c) { return t.kind == Token::special && t.text[0] == c; }

// addr-spec from tokens [b, e): local-part "@" domain, dots joining words.
util::Result<Mailbox> addr_spec(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  std::size_t at = e;
  for (std::size_t i = b; i < e; ++i)
    if (is_special(t[i], '@')) at = i;  // the last '@' separates the domain
  if (at == e) return util::fail("mailbox without '@'");
  Mailbox m;
  for (std::size_t i = b; i < at; ++i) m.local_part += t[i].text;
  for (std::size_t i = at + 1; i < e; ++i) {
    if (t[i].kind == Token::special && !is_special(t[i], '.')) return util::fail("unexpected '" + t[i].text + "' in domain");
    m.domain += t[i].text;
  }
  if (m.local_part.empty()) return util::fail("empty local part");
  while (!m.domain.empty() && m.domain.back() == '.') m.domain.pop_back();
  if (m.domain.empty()) return util::fail("empty domain");
  m.domain = util::to_lower(m.domain);
  return m;
}

// One mailbox: either name-addr (take what is inside the angle brackets,
// dropping an obsolete route "@a,@b:") or a bare addr-spec.
util::Result<Mailbox> mailbox(const std::vector<Token>& t, std::size_t b, std::size_t e) {
  for (std::size_t i = b; i < e; ++i) {
    if (!is_special(t[i], '<')) continue;
    std::size_t close = i + 1;
    while (close < e && !is_special(t[close], '>')) ++close;
    if (close == e) return util::fail("'<' without '>'");
    std::size_t start = i + 1;
    for (std::size_t j = start; j < close; ++j)
      if (is_special(t[j], ':')) start = j + 1;
    return addr_spec(t, start, close);
  }
  return addr_spec(t, b, e);
}

}  // namespace

util::Result<std::vector<Mailbox>> parse_mailbox_list(std::string_view value) {
  auto tokens = tokenize(value);
  if (!tokens) return std::unexpected(tokens.error());
  const auto& t = *tokens;
  std::vector<Mailbox> out;
  std::size_t start = 0;
  bool in_angle = false;
  for (std::size_t i = 0; i <= t.size(); ++i) {
    bool end = i == t.size();
    if (!end && is_special(t[i], '<')) in_angle = true;
    if (!end && is_special(t[i], '>')) in_angle = false;
    if (!end && in_angle) continue;
    // A group's display name ends at ':' (outside brackets); ';' ends the group.
    if (!end && is_special(t[i], ':')) { start = i + 1; continue; }
    if (!end && !is_special(t[i], ',') && !is_special(t[i], ';')) continue;
    if (i > start) {
      auto m = mailbox(t, start, i);
      if (!m) return std::unexpected(m.error());
      out.push_back(std::move(*m));
    }
    start = i + 1;
  }
  if (in_angle) return util::fail("'<' without '>'");
  return out;
}

FromDomain from_domain(const Message& message) {
  auto froms = message.find_all("From");
  if (froms.empty()) return {FromStatus::missing, "", "no From field"};
  if (froms.size() > 1) return {FromStatus::several_fields, "", "several From fields"};
  auto list = parse_mailbox_list(froms[0]->value);
  if (!list) return {FromStatus::unparsable, "", "unparsable From: " + list.error().message};
  if (list->empty()) return {FromStatus::unparsable, "", "From without a mailbox"};
  if (list->size() > 1) return {FromStatus::several_mailboxes, "", "From with several mailboxes"};
  return {FromStatus::ok, list->front().domain, ""};
}

}  // namespace mailmoat::mail
