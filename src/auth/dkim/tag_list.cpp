#include "auth/dkim/tag_list.h"

namespace mailmoat::auth::dkim {
namespace {

bool is_fws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '_'; }

std::string_view trim_fws(std::string_view s) {
  while (!s.empty() && is_fws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_fws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

util::Result<TagList> TagList::parse(std::string_view text) {
  TagList list;
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
      if (!is_fws(c) && (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e))
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
  std::string out(text.substr(0, tag.value_offset));
  out.append(text.substr(tag.value_offset + tag.value_length));
  return out;
}

std::string strip_fws(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    if (!is_fws(c)) out.push_back(c);
  return out;
}

}  // namespace mailmoat::auth::dkim
