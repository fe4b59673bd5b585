#include "auth/dkim/header_hash.h"

#include <unordered_map>

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/tag_list.h"
#include "util/strings.h"

namespace mailmoat::auth::dkim {

std::string field_without_b(const mail::HeaderField& field) {
  auto tags = TagList::parse(field.value);
  const Tag* b = tags ? tags->find("b") : nullptr;
  if (!b) return std::string(field.raw);
  Tag in_raw = *b;  // offsets are relative to the value; make them relative to raw
  in_raw.value_offset += static_cast<std::size_t>(field.value.data() - field.raw.data());
  return blank_tag_value(field.raw, in_raw);
}

std::string signed_header_data(const mail::Message& message, const std::vector<std::string>& names, Canon canon,
                               std::string_view signature_field_blanked) {
  std::string out;
  const auto& fields = message.fields();
  // Instances of each lower-cased name, bottom first, and how many are used;
  // built once so that a hostile h= costs linear time.
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = fields.size(); i-- > 0;) by_name[util::to_lower(fields[i].name)].push_back(i);
  std::unordered_map<std::string, std::size_t> used;
  for (const auto& name : names) {
    std::string key = util::to_lower(name);
    std::size_t& n = used[key];
    auto it = by_name.find(key);
    if (it != by_name.end() && n < it->second.size()) out += canonicalize_header(fields[it->second[n]].raw, canon);
    ++n;
  }
  std::string sig = canonicalize_header(signature_field_blanked, canon);
  sig.resize(sig.size() - 2);  // no CRLF after the signature field itself
  out += sig;
  return out;
}

}  // namespace mailmoat::auth::dkim
