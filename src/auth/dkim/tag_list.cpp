#include "auth/dkim/tag_list.h"

#include <array>

namespace mailmoat::auth::dkim {
namespace {

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '_'; }

// tval (VCHAR except ';', which ends the spec anyway) and the FWS inside values.
constexpr auto kValueChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[static_cast<std::size_t>(c)] = true;
  t[' '] = t['\t'] = t['\r'] = t['\n'] = true;
  return t;
}();

std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

util::Result<TagList> TagList::parse(std::string_view text) {
  TagList list;
  list.tags_.reserve(16);  // a DKIM-Signature has about a dozen tags: one allocation
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t semi = text.find(';', pos);
    if (semi == std::string_view::npos) semi = text.size();
    std::string_view spec = text.substr(pos, semi - pos);
    std::size_t spec_start = pos;
    pos = semi + 1;
    if (trim_fws(spec).empty()) {
      // Only the last spec may be empty (a trailing ';'); ";;" is a syntax error.
      if (semi == text.size()) break;
      return util::fail("empty tag-spec (\";;\")");
    }
    std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos) return util::fail("tag without '=': \"" + std::string(trim_fws(spec)) + "\"");
    std::string_view name = trim_fws(spec.substr(0, eq));
    if (name.empty() || !is_alpha(name[0])) return util::fail("invalid tag name \"" + std::string(name) + "\"");
    for (char c : name)
      if (!is_name_char(c)) return util::fail("invalid tag name \"" + std::string(name) + "\"");
    std::string_view raw_value = spec.substr(eq + 1);
    std::string_view value = trim_fws(raw_value);
    for (char c : value)
      if (!kValueChar[static_cast<unsigned char>(c)])
        return util::fail("invalid character in the value of tag " + std::string(name));
    if (list.find(name)) return util::fail("duplicate tag " + std::string(name) + "=");
    list.tags_.push_back({name, value, spec_start + eq + 1, raw_value.size()});
    if (semi == text.size()) break;
  }
  return list;
}

const Tag* TagList::find(std::string_view name) const {
  for (const auto& t : tags_)
    if (t.name == name) return &t;
  return nullptr;
}

std::optional<std::string_view> TagList::value(std::string_view name) const {
  const Tag* t = find(name);
  if (!t) return std::nullopt;
  return t->value;
}

std::string blank_tag_value(std::string_view text, const Tag& tag) {
  std::string out;
  out.reserve(text.size() - tag.value_length);
  out.append(text.substr(0, tag.value_offset));
  out.append(text.substr(tag.value_offset + tag.value_length));
  return out;
}

std::string strip_fws(std::string_view s) {
  // Written through a pointer with a table (a push_back per byte was most of
  // the cost for a folded 344-character b=); never longer than the input.
  static constexpr auto kKeep = [] {
    std::array<unsigned char, 256> t{};
    for (auto& v : t) v = 1;
    t[' '] = t['\t'] = t['\r'] = t['\n'] = 0;
    return t;
  }();
  std::string out(s.size(), '\0');
  char* w = out.data();
  for (char c : s) {
    *w = c;
    w += kKeep[static_cast<unsigned char>(c)];
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return out;
}

}  // namespace mailmoat::auth::dkim
