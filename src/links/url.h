// URL parsing and reference resolution (RFC 3986 sections 3 and 5.2) through
// uriparser, for what Safe Links needs to judge a destination: scheme, the
// userinfo (credentials in a URL are a phishing sign), the host and whether it
// is an IP literal, in any of the forms browsers accept ("0x7f.1", "2130706433").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace mailmoat::links {

struct UrlParts {
  std::string scheme;    // lower case
  std::string userinfo;  // "" when absent
  std::string host;      // lower case, without IPv6 brackets
  std::string port;
  std::string path_and_query;
  bool ip_literal = false;
};

util::Result<UrlParts> parse_url(std::string_view url);
// `reference` resolved against the absolute `base` (RFC 3986 5.2).
util::Result<std::string> resolve_reference(std::string_view base, std::string_view reference);
// Strips leading/trailing C0 controls and spaces and removes tabs and line
// breaks inside, as browsers do with attribute URLs (WHATWG URL, "basic URL parser").
std::string clean_attribute_url(std::string_view value);
// True when `url` starts with a scheme Safe Links wraps (http, https).
bool is_web_url(std::string_view url);

// What a cleaned URL attribute value links to, as Safe Links rewrites it: a web URL as it
// is; a relative reference resolved against `base` (the first web <base href>) when that
// gives a web URL; a scheme-relative "//host/path" that no base resolves as https (where a
// webmail opens it). No url: not a web link (another scheme, empty, a fragment) or a
// relative reference nothing resolves (`relative` is then true).
struct LinkTarget {
  std::optional<std::string> url;
  bool relative = false;
};
LinkTarget link_target(std::string url, const std::optional<std::string>& base);

}  // namespace mailmoat::links
