// The small part of GMime 3 Safe Links uses: Content-Type and
// Content-Disposition parsing (RFC 2045 5.1, RFC 2231 parameters), transfer
// decoding and encoding (quoted-printable, base64) and charset lookup. Kept
// inside src/links on purpose (docs/links.md): the attachment issue has its
// own adaptor and the two are to be unified in src/mail later.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mailmoat::links::gmime {

struct ContentType {
  std::string type = "text";  // lower case
  std::string subtype = "plain";
  std::string boundary;
  std::string charset;  // lower case; "" when absent
};

// `value` is the unfolded field value; an empty or unparsable one gives text/plain (RFC 2045 5.2).
ContentType parse_content_type(std::string_view value);
bool is_attachment(std::string_view disposition_value);

enum class TransferEncoding { identity, quoted_printable, base64, unknown };
TransferEncoding parse_transfer_encoding(std::string_view value);
std::string decode(std::string_view encoded, TransferEncoding encoding);
// Output lines end in CRLF; base64 lines are 76 characters, quoted-printable lines at most 76.
std::string encode(std::string_view decoded, TransferEncoding encoding);
// True when iconv knows the charset (GMime's canonical names and aliases).
bool charset_known(const std::string& charset);
// `utf8` converted to `charset` through GMime's iconv; nullopt when a character
// has no representation there (never a lossy substitution).
std::optional<std::string> from_utf8(std::string_view utf8, const std::string& charset);

}  // namespace mailmoat::links::gmime
