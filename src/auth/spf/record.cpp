#include "auth/spf/record.h"

#include <cctype>

#include "auth/spf/macro.h"
#include "util/strings.h"

namespace mailmoat::auth::spf {
namespace {

// "/N" with no leading zero (ABNF ip4-cidr-length / ip6-cidr-length) and N <= max.
std::optional<unsigned> parse_cidr(std::string_view digits, unsigned max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  auto v = util::parse_uint(digits);
  if (!v || *v > max) return std::nullopt;
  return static_cast<unsigned>(*v);
}

// Removes a trailing "/N" from `arg` when N is all digits; returns the digits.
std::optional<std::string_view> trailing_length(std::string_view& arg, std::string_view slashes) {
  std::size_t end = arg.size(), i = end;
  while (i > 0 && std::isdigit(static_cast<unsigned char>(arg[i - 1]))) --i;
  if (i == end || i < slashes.size() || arg.substr(i - slashes.size(), slashes.size()) != slashes) return std::nullopt;
  if (slashes == "/" && i >= 2 && arg[i - 2] == '/') return std::nullopt;  // that is "//N"
  std::string_view digits = arg.substr(i);
  arg = arg.substr(0, i - slashes.size());
  return digits;
}

// Splits "spec/24//64" into the domain-spec and the dual CIDR lengths. The
// lengths are taken from the end only, since a domain-spec may hold '/' and ':'.
util::Result<void> split_dual_cidr(std::string_view arg, Mechanism& m) {
  if (auto v6 = trailing_length(arg, "//")) {
    auto n = parse_cidr(*v6, 128);
    if (!n) return util::fail("invalid IPv6 prefix length in \"" + m.text + "\"");
    m.cidr6 = *n;
  }
  if (auto v4 = trailing_length(arg, "/")) {
    auto n = parse_cidr(*v4, 32);
    if (!n) return util::fail("invalid IPv4 prefix length in \"" + m.text + "\"");
    m.cidr4 = *n;
  }
  if (arg.starts_with(":")) {
    arg.remove_prefix(1);
    if (arg.empty()) return util::fail("empty domain in \"" + m.text + "\"");
    if (auto ok = check_domain_spec(arg); !ok) return util::fail(ok.error().message + " in \"" + m.text + "\"");
    m.domain_spec = std::string(arg);
  } else if (!arg.empty()) {
    return util::fail("invalid mechanism \"" + m.text + "\"");
  }
  return {};
}

util::Result<void> parse_ip(std::string_view arg, Mechanism& m, bool v6) {
  std::size_t slash = arg.find('/');
  std::string_view addr = arg.substr(0, slash);
  bool colon = addr.find(':') != std::string_view::npos;
  auto ip = colon == v6 ? dns::IpAddress::parse(addr) : std::nullopt;
  if (!ip) return util::fail("invalid address in \"" + m.text + "\"");
  m.network = *ip;
  if (slash != std::string_view::npos) {
    auto n = parse_cidr(arg.substr(slash + 1), v6 ? 128 : 32);
    if (!n) return util::fail("invalid prefix length in \"" + m.text + "\"");
    (v6 ? m.cidr6 : m.cidr4) = *n;
  }
  // ip6:::ffff:a.b.c.d was folded to IPv4 by the parser: keep its prefix meaning.
  if (v6 && !ip->v6) m.kind = MechanismKind::ip4, m.cidr4 = m.cidr6 > 96 ? m.cidr6 - 96 : 0;
  return {};
}

struct Name {
  std::string_view word;
  MechanismKind kind;
};
constexpr Name mechanism_names[] = {
    {"all", MechanismKind::all},   {"include", MechanismKind::include}, {"a", MechanismKind::a},
    {"mx", MechanismKind::mx},     {"ptr", MechanismKind::ptr},         {"ip4", MechanismKind::ip4},
    {"ip6", MechanismKind::ip6},   {"exists", MechanismKind::exists},
};

util::Result<Mechanism> parse_mechanism(std::string_view term) {
  Mechanism m;
  m.text = std::string(term);
  switch (term.empty() ? 0 : term[0]) {
    case '+': m.qualifier = Qualifier::pass, term.remove_prefix(1); break;
    case '-': m.qualifier = Qualifier::fail, term.remove_prefix(1); break;
    case '~': m.qualifier = Qualifier::softfail, term.remove_prefix(1); break;
    case '?': m.qualifier = Qualifier::neutral, term.remove_prefix(1); break;
    default: break;  // no qualifier: "+"
  }
  std::size_t end = term.find_first_of(":/");
  std::string_view word = term.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view{} : term.substr(end);
  const Name* found = nullptr;
  for (const auto& n : mechanism_names)
    if (util::iequals(word, n.word)) found = &n;
  if (!found) return util::fail("unknown mechanism \"" + m.text + "\"");
  m.kind = found->kind;
  bool has_arg = rest.starts_with(":");
  std::string_view arg = has_arg ? rest.substr(1) : rest;
  switch (m.kind) {
    case MechanismKind::all:
      if (!rest.empty()) return util::fail("\"all\" takes no argument");
      return m;
    case MechanismKind::include:
    case MechanismKind::exists:
      if (!has_arg || arg.empty()) return util::fail("\"" + std::string(word) + "\" needs a domain");
      if (auto ok = check_domain_spec(arg); !ok) return util::fail(ok.error().message + " in \"" + m.text + "\"");
      m.domain_spec = std::string(arg);
      return m;
    case MechanismKind::ptr:
      if (rest.starts_with("/")) return util::fail("\"ptr\" takes no prefix length");
      if (has_arg) {
        if (auto ok = check_domain_spec(arg); !ok) return util::fail(ok.error().message + " in \"" + m.text + "\"");
        m.domain_spec = std::string(arg);
      }
      return m;
    case MechanismKind::a:
    case MechanismKind::mx:
      if (auto ok = split_dual_cidr(rest, m); !ok) return std::unexpected(ok.error());
      return m;
    case MechanismKind::ip4:
    case MechanismKind::ip6:
      if (!has_arg) return util::fail("\"" + std::string(word) + "\" needs an address");
      if (auto ok = parse_ip(arg, m, m.kind == MechanismKind::ip6); !ok) return std::unexpected(ok.error());
      return m;
  }
  return m;
}

bool is_modifier_name(std::string_view name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

}  // namespace

bool is_spf_record(std::string_view txt) {
  return util::istarts_with(txt, "v=spf1") && (txt.size() == 6 || txt[6] == ' ');
}

util::Result<Record> parse_record(std::string_view text) {
  if (!is_spf_record(text)) return util::fail("not an SPF record");
  Record record;
  for (auto term : util::split(text.substr(6), ' ')) {
    if (term.empty()) continue;
    std::size_t eq = term.find('=');
    std::size_t colon_or_slash = term.find_first_of(":/");
    if (eq != std::string_view::npos && eq < colon_or_slash) {
      std::string_view name = term.substr(0, eq), value = term.substr(eq + 1);
      if (!is_modifier_name(name)) return util::fail("invalid modifier name in \"" + std::string(term) + "\"");
      bool redirect = util::iequals(name, "redirect"), exp = util::iequals(name, "exp");
      if (redirect || exp) {
        auto& slot = redirect ? record.redirect : record.exp;
        if (slot) return util::fail("duplicate \"" + std::string(name) + "\" modifier");
        if (auto ok = check_domain_spec(value); !ok) return util::fail(ok.error().message + " in \"" + std::string(term) + "\"");
        slot = std::string(value);
      } else if (auto ok = check_macro_string(value, MacroUse::domain); !ok) {
        return util::fail(ok.error().message + " in \"" + std::string(term) + "\"");
      }
      continue;
    }
    auto m = parse_mechanism(term);
    if (!m) return std::unexpected(m.error());
    record.mechanisms.push_back(std::move(*m));
  }
  return record;
}

}  // namespace mailmoat::auth::spf
