// Tag=value lists as used by DKIM-Signature, DKIM key records and the ARC
// header fields (RFC 6376 section 3.2): names are case-sensitive, a
// duplicated name is a syntax error, values keep their inner folding and are
// trimmed of surrounding white space. Each tag remembers where its value sits
// in the input so the signature's b= can be blanked for hashing (3.7).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::auth::dkim {

struct Tag {
  std::string_view name;
  std::string_view value;        // trimmed
  std::size_t value_offset = 0;  // of the untrimmed value (just after '=') in the input
  std::size_t value_length = 0;  // of the untrimmed value
};

class TagList {
 public:
  static util::Result<TagList> parse(std::string_view text);
  const Tag* find(std::string_view name) const;
  std::optional<std::string_view> value(std::string_view name) const;
  const std::vector<Tag>& tags() const { return tags_; }

 private:
  std::vector<Tag> tags_;
};

// `text` with the value of tag `name` removed (RFC 6376 3.7: the b= value is
// hashed as an empty string, everything else byte for byte).
std::string blank_tag_value(std::string_view text, const Tag& tag);

// Removes FWS (SP, HTAB, CR, LF) from a base64 or list value.
std::string strip_fws(std::string_view s);

}  // namespace mailmoat::auth::dkim
