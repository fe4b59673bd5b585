// Authentication-Results header fields (RFC 8601): a writer that folds at 78
// columns with one method per line, a parser for fields written by anyone
// (used by ARC and the rules engine), and removal of fields that claim our
// authserv-id (§5), so a sender cannot forge our verdict. The parser is
// lenient where real-world writers differ (trailing ";", odd pvalues) and
// never throws or reads past its input.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::auth::authres {

struct Property {
  std::string ptype;  // smtp, header, body, policy
  std::string name;   // mailfrom, helo, from, d, s, b, iprev, ...
  std::string value;
};

struct MethodResult {
  std::string method;   // spf, dkim, dmarc, arc, iprev, auth, ...
  std::optional<unsigned> version;  // method/1
  std::string result;   // pass, fail, none, ...
  std::string reason;   // reason= (optional)
  std::string comment;  // a short readable note, written in parentheses after the result
  std::vector<Property> properties;
  const Property* property(std::string_view ptype, std::string_view name) const;
};

struct AuthenticationResults {
  std::string authserv_id;
  std::optional<unsigned> version;
  std::vector<MethodResult> results;  // empty = "none"
};

// The whole field, "Authentication-Results: ...", folded with CRLF + TAB and
// without the final CRLF.
std::string write(const AuthenticationResults& ar);

// Parses a field value (the part after "Authentication-Results:"), possibly folded.
util::Result<AuthenticationResults> parse(std::string_view value);

// ARC-Authentication-Results (RFC 8617 §4.1.1): "i=N;" then an
// Authentication-Results payload. N must be 1..50.
struct ArcAuthenticationResults {
  unsigned instance = 0;
  AuthenticationResults results;
};
util::Result<ArcAuthenticationResults> parse_arc(std::string_view value);

// The authserv-id of a field value, read leniently even when the rest is malformed.
std::optional<std::string> authserv_id_of(std::string_view value);

struct Stripped {
  std::string header;  // the header block without the removed fields
  int removed = 0;
};
// Removes every Authentication-Results field whose authserv-id equals ours
// (ASCII case-insensitive) from a header block of CRLF- or LF-terminated lines.
Stripped remove_own_results(std::string_view header, std::string_view authserv_id);

}  // namespace mailmoat::auth::authres
