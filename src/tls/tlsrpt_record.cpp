#include "tls/tlsrpt_record.h"

#include <cctype>

#include "util/strings.h"

namespace mailmoat::tls {

namespace {

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 3986 percent-decoding; "" when an escape is broken.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return {};
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// A mailbox good enough to send to: local@domain, printable, no spaces or angle brackets.
bool plausible_address(std::string_view a) {
  auto at = a.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size() || a.size() > 254) return false;
  for (char c : a)
    if (static_cast<unsigned char>(c) <= 32 || static_cast<unsigned char>(c) >= 127 || c == '<' || c == '>' || c == ',')
      return false;
  return a.substr(at + 1).find('.') != std::string_view::npos;
}

bool plausible_https(std::string_view u) {
  if (!util::istarts_with(u, "https://") || u.size() <= 8 || u.size() > 2048) return false;
  for (char c : u)
    if (static_cast<unsigned char>(c) <= 32 || static_cast<unsigned char>(c) >= 127) return false;
  return true;
}

void add_uri(TlsRptRecord& r, std::string_view uri) {
  if (util::istarts_with(uri, "mailto:")) {
    std::string_view rest = uri.substr(7);
    rest = rest.substr(0, rest.find('?'));
    std::string address = percent_decode(rest);
    if (plausible_address(address)) r.mailto.push_back(std::move(address));
    else r.skipped.push_back(std::string(uri) + ": not a usable mailto address");
  } else if (plausible_https(uri)) {
    r.https.push_back(std::string(uri));
  } else {
    r.skipped.push_back(std::string(uri) + ": only mailto: and https: are supported");
  }
}

}  // namespace

util::Result<TlsRptRecord> parse_tlsrpt_record(std::string_view txt) {
  auto fields = util::split(txt, ';');
  if (fields.empty() || trim_wsp(fields[0]) != "v=TLSRPTv1") return util::fail("not a v=TLSRPTv1 record");
  if (fields.size() < 2) return util::fail("no rua field");
  TlsRptRecord r;
  bool have_rua = false;
  for (std::size_t i = 1; i < fields.size(); ++i) {
    std::string_view f = trim_wsp(fields[i]);
    if (f.empty()) {
      if (i + 1 == fields.size()) break;  // a trailing ";" is allowed
      return util::fail("empty field");
    }
    auto eq = f.find('=');
    if (eq == std::string_view::npos || eq == 0) return util::fail("field without a name=value form");
    std::string_view name = f.substr(0, eq), value = trim_wsp(f.substr(eq + 1));
    if (name == "rua") {
      if (have_rua) return util::fail("more than one rua field");
      if (i != 1) return util::fail("rua must follow the version");
      have_rua = true;
      for (auto uri : util::split(value, ',')) {
        uri = trim_wsp(uri);
        if (uri.empty()) return util::fail("empty rua URI");
        add_uri(r, uri);
      }
    }
    // Extensions (§3: ext-name=ext-value) are ignored.
  }
  if (!have_rua) return util::fail("no rua field");
  if (r.mailto.empty() && r.https.empty()) return util::fail("no usable rua destination");
  return r;
}

util::Result<TlsRptRecord> select_tlsrpt_record(const std::vector<std::string>& txts) {
  std::vector<std::string_view> candidates;
  for (const auto& t : txts) {
    std::string_view v = t;
    // §3: records that do not begin with "v=TLSRPTv1;" are discarded.
    if (v.starts_with("v=TLSRPTv1") && trim_wsp(v.substr(10)).starts_with(";")) candidates.push_back(v);
  }
  if (candidates.empty()) return util::fail("no v=TLSRPTv1 record");
  if (candidates.size() > 1) return util::fail("more than one v=TLSRPTv1 record");
  return parse_tlsrpt_record(candidates[0]);
}

}  // namespace mailmoat::tls
