#include "store/url.h"

#include "util/strings.h"

namespace mailmoat::store {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = util::ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Percent-decoding for the user, password and database parts of the URL.
util::Result<std::string> decode(std::string_view s, std::string_view what) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return util::fail("bad percent escape in " + std::string(what));
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return util::fail("bad percent escape in " + std::string(what));
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

util::Result<StoreUrl> parse_postgres(std::string_view rest, std::string_view scheme) {
  StoreUrl u;
  u.kind = StoreUrl::Kind::postgresql;
  auto slash = rest.find('/');
  if (slash == std::string_view::npos) return util::fail("store.url: missing /database after the host");
  std::string_view authority = rest.substr(0, slash), db = rest.substr(slash + 1);
  if (auto q = db.find('?'); q != std::string_view::npos) return util::fail("store.url: query parameters are not supported");
  std::string_view hostport = authority;
  std::string_view userinfo;
  bool has_password = false;
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    userinfo = authority.substr(0, at);
    hostport = authority.substr(at + 1);
  }
  if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
    auto pw = decode(userinfo.substr(colon + 1), "password");
    if (!pw) return util::fail("store.url: bad percent escape in the password");
    u.password = *pw;
    has_password = true;
    userinfo = userinfo.substr(0, colon);
  }
  auto user = decode(userinfo, "user");
  if (!user) return util::fail("store.url: " + user.error().message);
  u.user = *user;
  std::string_view host = hostport;
  if (auto colon = hostport.rfind(':'); colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    auto port = util::parse_uint(hostport.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return util::fail("store.url: bad port");
    u.port = static_cast<std::uint16_t>(*port);
    host = hostport.substr(0, colon);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return util::fail("store.url: missing host");
  u.host = std::string(host);
  auto dbname = decode(db, "database");
  if (!dbname || dbname->empty()) return util::fail("store.url: missing database name");
  u.database = *dbname;
  u.redacted = std::string(scheme) + "://" + std::string(userinfo) + (has_password ? ":***" : "") +
               (userinfo.empty() && !has_password ? "" : "@") + std::string(hostport) + "/" + std::string(db);
  return u;
}

}  // namespace

util::Result<StoreUrl> parse_store_url(std::string_view url, std::string_view data_dir) {
  if (url.empty()) {
    if (data_dir.empty()) return util::fail("store.url is empty and there is no data directory");
    StoreUrl u;
    u.path = std::string(data_dir) + "/mailmoat.db";
    u.redacted = "sqlite:" + u.path;
    return u;
  }
  if (util::istarts_with(url, "sqlite:")) {
    StoreUrl u;
    u.path = std::string(url.substr(7));
    if (u.path.empty()) return util::fail("store.url: sqlite: needs a file path");
    u.redacted = "sqlite:" + u.path;
    return u;
  }
  for (std::string_view scheme : {"postgresql", "postgres"}) {
    std::string prefix = std::string(scheme) + "://";
    if (util::istarts_with(url, prefix)) return parse_postgres(url.substr(prefix.size()), scheme);
  }
  return util::fail("store.url: unknown scheme in \"" + redact_url(url) + "\" (expected sqlite: or postgresql://)");
}

std::string redact_url(std::string_view text) {
  std::string out(text);
  std::size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    std::size_t start = pos + 3;
    std::size_t at = out.find('@', start);
    std::size_t end = out.find_first_of("/ \t\n", start);
    if (at != std::string::npos && (end == std::string::npos || at < end)) {
      std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    pos = start;
  }
  return out;
}

}  // namespace mailmoat::store
