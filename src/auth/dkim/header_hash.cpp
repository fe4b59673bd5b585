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

std::string field_without_b(const mail::HeaderField& field, const Signature& signature) {
  Tag in_raw;  // the recorded offsets are relative to the value; make them relative to raw
  in_raw.value_offset = signature.b_value_offset + static_cast<std::size_t>(field.value.data() - field.raw.data());
  in_raw.value_length = signature.b_value_length;
  return blank_tag_value(field.raw, in_raw);
}

namespace {

// Inline (not util::iequals): called a few hundred times per signature, and
// most pairs differ in length or in the first byte.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x != y && ((x | 0x20u) != (y | 0x20u) || (x | 0x20u) < 'a' || (x | 0x20u) > 'z')) return false;
  }
  return true;
}

// The common case (a few dozen fields, a short h=): direct scans, no maps.
// Each h= name takes the next instance of that name from the bottom.
void select_small(const std::vector<mail::HeaderField>& fields, const std::vector<std::string>& names, Canon canon,
                  std::string& out) {
  for (std::size_t k = 0; k < names.size(); ++k) {
    std::size_t earlier = 0;  // how many times this name came before in h=
    for (std::size_t j = 0; j < k; ++j) earlier += same_name(names[j], names[k]) ? 1 : 0;
    for (std::size_t i = fields.size(); i-- > 0;) {
      if (!same_name(fields[i].name, names[k])) continue;
      if (earlier-- == 0) {
        canonicalize_header_into(out, fields[i].raw, canon);
        break;
      }
    }
  }
}

// Any size: instances of each lower-cased name, bottom first, built once so
// that a hostile h= or a header of thousands of fields costs linear time.
void select_large(const std::vector<mail::HeaderField>& fields, const std::vector<std::string>& names, Canon canon,
                  std::string& out) {
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t i = fields.size(); i-- > 0;) by_name[util::to_lower(fields[i].name)].push_back(i);
  std::unordered_map<std::string, std::size_t> used;
  for (const auto& name : names) {
    std::string key = util::to_lower(name);
    std::size_t& n = used[key];
    auto it = by_name.find(key);
    if (it != by_name.end() && n < it->second.size()) canonicalize_header_into(out, fields[it->second[n]].raw, canon);
    ++n;
  }
}

}  // namespace

std::string signed_header_data(const mail::Message& message, const std::vector<std::string>& names, Canon canon,
                               std::string_view signature_field_blanked) {
  std::string out;
  out.reserve(1024 + signature_field_blanked.size());  // the usual signed fields fit: no regrowth
  const auto& fields = message.fields();
  if (fields.size() <= 64 && names.size() <= 64)
    select_small(fields, names, canon, out);
  else
    select_large(fields, names, canon, out);
  canonicalize_header_into(out, signature_field_blanked, canon);
  out.resize(out.size() - 2);  // no CRLF after the signature field itself
  return out;
}

}  // namespace mailmoat::auth::dkim
