#include "smtp/protocol/command.h"

#include "util/strings.h"

namespace mailmoat::smtp {

using util::iequals;
using util::istarts_with;

std::string Path::local_part() const {
  auto at = address.rfind('@');
  return at == std::string::npos ? address : address.substr(0, at);
}

std::string Path::domain() const {
  auto at = address.rfind('@');
  return at == std::string::npos ? std::string() : util::to_lower(address.substr(at + 1));
}

std::optional<std::string> decode_xtext(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 33 || c > 126 || c == '=') return std::nullopt;
    if (c != '+') {
      out += static_cast<char>(c);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

namespace {

Reply syntax(std::string text) { return Reply(501, "5.5.4", std::move(text)); }

bool valid_domain_or_literal(std::string_view d, bool utf8) {
  if (d.empty() || d.size() > 255) return false;
  if (d.front() == '[') return d.back() == ']' && d.size() > 2;
  for (auto label : util::split(d, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (unsigned char c : label) {
      if (c >= 0x80) {
        if (!utf8) return false;
        continue;
      }
      if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
    }
  }
  return true;
}

bool valid_local_part(std::string_view l, bool utf8) {
  if (l.empty() || l.size() > std::size_t{64} * 4) return false;
  if (l.front() == '"') {
    if (l.size() < 2 || l.back() != '"') return false;
    for (std::size_t i = 1; i + 1 < l.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(l[i]);
      if (c == '\\') {
        ++i;
        continue;
      }
      if (c < 32 || c == 127 || (c >= 0x80 && !utf8)) return false;
    }
    return true;
  }
  static constexpr std::string_view atext_specials = "!#$%&'*+-/=?^_`{|}~.";
  for (unsigned char c : l) {
    if (c >= 0x80) {
      if (!utf8) return false;
      continue;
    }
    if (!std::isalnum(c) && atext_specials.find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return l.front() != '.' && l.back() != '.' && l.find("..") == std::string_view::npos;
}

// Parses "<path>" (or a bare address, as many clients send) from the start of
// `s`; returns the rest (parameters) in `rest`.
std::optional<Reply> parse_path(std::string_view s, bool allow_null, bool allow_postmaster, bool utf8, Path& out,
                                std::string_view& rest) {
  s = util::trim(s);
  std::string_view inner;
  if (!s.empty() && s.front() == '<') {
    // A quoted local part may contain '>'; find the closing bracket outside quotes.
    bool quoted = false;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = 1; i < s.size(); ++i) {
      if (s[i] == '\\' && quoted) {
        ++i;
        continue;
      }
      if (s[i] == '"') quoted = !quoted;
      if (s[i] == '>' && !quoted) {
        close = i;
        break;
      }
    }
    if (close == std::string_view::npos) return syntax("Syntax error: missing '>' in path");
    inner = s.substr(1, close - 1);
    rest = s.substr(close + 1);
  } else {
    auto sp = s.find(' ');
    inner = s.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view() : s.substr(sp);
  }
  if (inner.empty()) {
    if (!allow_null) return syntax("Syntax error: empty path");
    out.address.clear();
    return std::nullopt;
  }
  // RFC 5321 §4.1.2 source routes ("@a,@b:user@domain") are accepted and ignored.
  if (inner.front() == '@') {
    auto colon = inner.find(':');
    if (colon == std::string_view::npos) return syntax("Syntax error in source route");
    inner = inner.substr(colon + 1);
  }
  if (allow_postmaster && iequals(inner, "postmaster")) {
    out.address = std::string(inner);
    return std::nullopt;
  }
  auto at = inner.rfind('@');
  if (at == std::string_view::npos) return syntax("Syntax error: address must be local-part@domain");
  bool non_ascii = false;
  for (unsigned char c : inner) non_ascii |= c >= 0x80;
  if (non_ascii && !utf8) return Reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8 (RFC 6531)");
  if (!valid_local_part(inner.substr(0, at), utf8)) return syntax("Syntax error in local part");
  if (!valid_domain_or_literal(inner.substr(at + 1), utf8)) return syntax("Syntax error in domain");
  if (inner.size() > std::size_t{254} * 4) return Reply(501, "5.1.3", "Address too long");
  out.address = std::string(inner);
  return std::nullopt;
}

std::optional<Reply> parse_mail_params(std::string_view rest, MailParams& p) {
  for (auto token : util::split(util::trim(rest), ' ')) {
    if (token.empty()) continue;
    auto eq = token.find('=');
    std::string_view key = token.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : token.substr(eq + 1);
    if (iequals(key, "SIZE")) {
      auto n = util::parse_uint(value);
      if (!n) return syntax("Syntax error in SIZE parameter");
      p.size = n;
    } else if (iequals(key, "BODY")) {
      if (iequals(value, "7BIT") || iequals(value, "8BITMIME")) {
        p.body = util::to_lower(value) == "7bit" ? "7BIT" : "8BITMIME";
      } else {
        return Reply(555, "5.5.4", "Unsupported BODY type");
      }
    } else if (iequals(key, "SMTPUTF8") && value.empty()) {
      p.smtputf8 = true;
    } else if (iequals(key, "RET")) {
      if (!iequals(value, "FULL") && !iequals(value, "HDRS")) return syntax("RET must be FULL or HDRS");
      p.ret = iequals(value, "FULL") ? "FULL" : "HDRS";
    } else if (iequals(key, "ENVID")) {
      auto v = decode_xtext(value);
      if (!v || v->size() > 100) return syntax("Syntax error in ENVID parameter");
      p.envid = *v;
    } else if (iequals(key, "REQUIRETLS") && value.empty()) {
      p.requiretls = true;
    } else {
      return Reply(555, "5.5.4", "Unsupported parameter " + std::string(key));
    }
  }
  return std::nullopt;
}

std::optional<Reply> parse_rcpt_params(std::string_view rest, RcptParams& p) {
  for (auto token : util::split(util::trim(rest), ' ')) {
    if (token.empty()) continue;
    auto eq = token.find('=');
    std::string_view key = token.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : token.substr(eq + 1);
    if (iequals(key, "NOTIFY")) {
      bool never = false, other = false;
      for (auto v : util::split(value, ',')) {
        if (iequals(v, "NEVER")) never = true;
        else if (iequals(v, "SUCCESS") || iequals(v, "FAILURE") || iequals(v, "DELAY")) other = true;
        else return syntax("Syntax error in NOTIFY parameter");
      }
      if (never && other) return syntax("NOTIFY=NEVER cannot be combined");
      p.notify = util::to_lower(value);
      for (char& c : p.notify) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (iequals(key, "ORCPT")) {
      auto semi = value.find(';');
      if (semi == std::string_view::npos) return syntax("Syntax error in ORCPT parameter");
      auto addr = decode_xtext(value.substr(semi + 1));
      if (!addr || addr->size() > 500) return syntax("Syntax error in ORCPT parameter");
      p.orcpt = std::string(value.substr(0, semi)) + ";" + *addr;
    } else {
      return Reply(555, "5.5.4", "Unsupported parameter " + std::string(key));
    }
  }
  return std::nullopt;
}

Verb verb_of(std::string_view w) {
  static constexpr std::pair<std::string_view, Verb> verbs[] = {
      {"EHLO", Verb::ehlo}, {"HELO", Verb::helo}, {"MAIL", Verb::mail}, {"RCPT", Verb::rcpt},
      {"DATA", Verb::data}, {"BDAT", Verb::bdat}, {"RSET", Verb::rset}, {"NOOP", Verb::noop},
      {"QUIT", Verb::quit}, {"VRFY", Verb::vrfy}, {"EXPN", Verb::expn}, {"HELP", Verb::help},
      {"STARTTLS", Verb::starttls}, {"AUTH", Verb::auth}};
  for (auto [name, verb] : verbs)
    if (iequals(w, name)) return verb;
  return Verb::unknown;
}

}  // namespace

ParseOutcome parse_command(std::string_view line, bool utf8_allowed_in_rcpt) {
  for (unsigned char c : line)
    if (c == 0) return Reply(500, "5.5.2", "NUL character in command");
  auto sp = line.find(' ');
  std::string_view word = line.substr(0, sp);
  std::string_view arg = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  Command cmd;
  cmd.verb = verb_of(word);
  switch (cmd.verb) {
    case Verb::unknown:
      return Reply(500, "5.5.2", "Command not recognized");
    case Verb::ehlo:
    case Verb::helo: {
      auto domain = util::trim(arg);
      if (domain.empty() || domain.find(' ') != std::string_view::npos)
        return syntax("Syntax: " + std::string(cmd.verb == Verb::ehlo ? "EHLO" : "HELO") + " hostname");
      cmd.argument = std::string(domain);
      return cmd;
    }
    case Verb::mail: {
      if (!istarts_with(arg, "FROM:")) return syntax("Syntax: MAIL FROM:<address>");
      std::string_view after = arg.substr(5);
      // SMTPUTF8 is a parameter after the path: look for it before validating the path.
      bool utf8 = false;
      for (auto t : util::split(after, ' ')) utf8 |= iequals(t, "SMTPUTF8");
      std::string_view rest;
      if (auto r = parse_path(after, true, false, utf8, cmd.path, rest)) return *r;
      if (auto r = parse_mail_params(rest, cmd.mail)) return *r;
      return cmd;
    }
    case Verb::rcpt: {
      if (!istarts_with(arg, "TO:")) return syntax("Syntax: RCPT TO:<address>");
      std::string_view rest;
      if (auto r = parse_path(arg.substr(3), false, true, utf8_allowed_in_rcpt, cmd.path, rest)) return *r;
      if (auto r = parse_rcpt_params(rest, cmd.rcpt)) return *r;
      return cmd;
    }
    case Verb::bdat: {
      auto parts = util::split(util::trim(arg), ' ');
      auto size = util::parse_uint(parts[0]);
      if (!size || parts.size() > 2 || (parts.size() == 2 && !iequals(parts[1], "LAST")))
        return syntax("Syntax: BDAT size [LAST]");
      cmd.chunk_size = *size;
      cmd.last_chunk = parts.size() == 2;
      return cmd;
    }
    case Verb::data:
    case Verb::rset:
    case Verb::quit:
    case Verb::starttls:
      if (!util::trim(arg).empty()) return syntax("Syntax error: no parameters allowed");
      return cmd;
    case Verb::noop:
    case Verb::vrfy:
    case Verb::expn:
    case Verb::help:
    case Verb::auth:
      cmd.argument = std::string(arg);
      return cmd;
  }
  return Reply(500, "5.5.2", "Command not recognized");
}

}  // namespace mailmoat::smtp
