// Writing tag=value header fields (DKIM-Signature, ARC-Message-Signature,
// ARC-Seal): tags joined by "; ", folded before 78 columns at tag and h=
// colon boundaries, b= last so that its value (with any folding inside it)
// is exactly what is blanked when hashing (RFC 6376 3.7).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailmoat::auth::dkim {

using TagValues = std::vector<std::pair<std::string, std::string>>;

// "Name: t1=v1; t2=v2;\r\n\tt3=v3; b=" (no CRLF at the end).
std::string format_unsigned_field(std::string_view name, const TagValues& tags);
// Appends the base64 signature to a field ending in "b=", folded.
std::string append_signature(std::string field, std::string_view b64);
// "Name: t1=v1; b=<b64>; t3=v3" with the tags in the given order (ARC fields
// keep theirs alphabetical, so b= sits second), folded at tag boundaries and
// inside b=. With an empty `b64`, the form that is hashed (b= blanked).
std::string format_field_in_order(std::string_view name, const TagValues& tags, std::string_view b64);

}  // namespace mailmoat::auth::dkim
