#include "links/url.h"

#include <uriparser/Uri.h>

#include <memory>

#include "util/strings.h"

namespace mailmoat::links {

namespace {

std::string range(const UriTextRangeA& r) {
  if (r.first == nullptr || r.afterLast == nullptr) return {};
  return std::string(r.first, r.afterLast);
}

struct UriHolder {
  UriUriA uri{};
  bool parsed = false;
  ~UriHolder() {
    if (parsed) uriFreeUriMembersA(&uri);
  }
};

util::Result<void> parse_into(UriHolder& h, std::string_view text) {
  const char* error = nullptr;
  if (uriParseSingleUriExA(&h.uri, text.data(), text.data() + text.size(), &error) != URI_SUCCESS)
    return util::fail("not a valid URL (RFC 3986) near offset " +
                      std::to_string(error ? error - text.data() : 0));
  h.parsed = true;
  return {};
}

// Browsers read a host made of numbers (decimal, octal "0177", hex "0x7f",
// fewer than four parts) as an IPv4 address.
bool numeric_ipv4(std::string_view host) {
  if (host.empty()) return false;
  if (host.back() == '.') host.remove_suffix(1);
  auto parts = util::split(host, '.');
  if (parts.empty() || parts.size() > 4) return false;
  for (auto p : parts) {
    if (p.empty()) return false;
    std::string_view digits = p;
    bool hex = p.size() > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex) digits = p.substr(2);
    for (char c : digits)
      if (!(c >= '0' && c <= '9') && !(hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))) return false;
  }
  return true;
}

}  // namespace

util::Result<UrlParts> parse_url(std::string_view url) {
  UriHolder h;
  if (auto r = parse_into(h, url); !r) return util::fail(r.error().message);
  UrlParts p;
  p.scheme = util::to_lower(range(h.uri.scheme));
  p.userinfo = range(h.uri.userInfo);
  p.host = util::to_lower(range(h.uri.hostText));
  p.port = range(h.uri.portText);
  p.ip_literal = h.uri.hostData.ip4 != nullptr || h.uri.hostData.ip6 != nullptr ||
                 h.uri.hostData.ipFuture.first != nullptr || numeric_ipv4(p.host);
  std::size_t host_end = h.uri.portText.afterLast    ? static_cast<std::size_t>(h.uri.portText.afterLast - url.data())
                         : h.uri.hostText.afterLast ? static_cast<std::size_t>(h.uri.hostText.afterLast - url.data())
                                                    : 0;
  if (h.uri.hostData.ip6 != nullptr || h.uri.hostData.ipFuture.first != nullptr)
    if (host_end < url.size() && url[host_end] == ']') ++host_end;
  if (host_end <= url.size()) p.path_and_query = std::string(url.substr(host_end));
  std::size_t hash = p.path_and_query.find('#');
  if (hash != std::string::npos) p.path_and_query.resize(hash);
  return p;
}

util::Result<std::string> resolve_reference(std::string_view base, std::string_view reference) {
  UriHolder b, r, out;
  if (auto e = parse_into(b, base); !e) return util::fail("base: " + e.error().message);
  if (auto e = parse_into(r, reference); !e) return util::fail(e.error().message);
  if (uriAddBaseUriA(&out.uri, &r.uri, &b.uri) != URI_SUCCESS) return util::fail("cannot resolve against the base URL");
  out.parsed = true;
  int chars = 0;
  if (uriToStringCharsRequiredA(&out.uri, &chars) != URI_SUCCESS) return util::fail("cannot serialise the URL");
  std::string text(static_cast<std::size_t>(chars) + 1, '\0');
  if (uriToStringA(text.data(), &out.uri, chars + 1, nullptr) != URI_SUCCESS) return util::fail("cannot serialise the URL");
  text.resize(static_cast<std::size_t>(chars));
  return text;
}

std::string clean_attribute_url(std::string_view value) {
  auto is_trim = [](char c) { return static_cast<unsigned char>(c) <= 0x20; };
  while (!value.empty() && is_trim(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_trim(value.back())) value.remove_suffix(1);
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (c != '\t' && c != '\n' && c != '\r') out += c;
  return out;
}

bool is_web_url(std::string_view url) { return util::istarts_with(url, "http://") || util::istarts_with(url, "https://"); }

LinkTarget link_target(std::string url, const std::optional<std::string>& base) {
  LinkTarget t;
  if (url.empty() || url[0] == '#') return t;
  if (is_web_url(url)) {
    t.url = std::move(url);
    return t;
  }
  // Anything with a scheme (mailto:, tel:, cid:, data:, javascript:) is not a web link.
  std::size_t colon = url.find(':');
  std::size_t stop = url.find_first_of("/?#");
  if (colon != std::string::npos && (stop == std::string::npos || colon < stop)) return t;
  if (base)
    if (auto r = resolve_reference(*base, url); r && is_web_url(*r)) t.url = std::move(*r);
  if (!t.url && url.size() > 2 && url[0] == '/' && url[1] == '/') t.url = "https:" + url;
  t.relative = !t.url;
  return t;
}

}  // namespace mailmoat::links
