#include "tls/mta_sts_policy.h"

#include <cctype>

#include "util/strings.h"

namespace mailmoat::tls {

namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_wsp(std::string_view s) {
  while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
  return s;
}

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

// RFC 8461 §3.2 mx: a domain name, optionally "*." then a domain name.
bool valid_mx_pattern(std::string_view p) {
  if (p.starts_with("*.")) p.remove_prefix(2);
  if (p.empty() || p.size() > 253) return false;
  for (auto label : util::split(p, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

util::Result<std::string> parse_sts_record(std::string_view txt) {
  std::string id;
  bool first = true;
  for (auto field : util::split(txt, ';')) {
    field = trim_wsp(field);
    if (field.empty()) {
      if (first) return util::fail("empty record");
      continue;  // a trailing ';'
    }
    auto eq = field.find('=');
    if (eq == std::string_view::npos) return util::fail("field without '=': " + std::string(field.substr(0, 64)));
    std::string_view name = field.substr(0, eq), value = field.substr(eq + 1);
    if (first) {
      if (name != "v" || value != "STSv1") return util::fail("the record must start with v=STSv1");
      first = false;
      continue;
    }
    if (name == "id" && id.empty()) {
      if (!valid_id(value)) return util::fail("id must be 1 to 32 letters or digits");
      id = std::string(value);
    }
  }
  if (first) return util::fail("empty record");
  if (id.empty()) return util::fail("no id field");
  return id;
}

util::Result<std::string> select_sts_record(const std::vector<std::string>& txts) {
  const std::string* chosen = nullptr;
  std::size_t count = 0;
  for (const auto& t : txts)
    if (t.starts_with("v=STSv1;") || t == "v=STSv1") {
      chosen = &t;
      ++count;
    }
  if (count == 0) return util::fail("no v=STSv1 record");
  if (count > 1) return util::fail("more than one v=STSv1 record (RFC 8461 3.1: no policy)");
  return parse_sts_record(*chosen);
}

util::Result<StsPolicy> parse_sts_policy(std::string_view body) {
  if (body.size() > kMaxStsPolicySize) return util::fail("policy larger than 64 KiB");
  StsPolicy p;
  bool have_version = false, have_mode = false, have_max_age = false;
  std::size_t line_no = 0;
  for (auto line : util::split(body, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim_wsp(line).empty()) continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return util::fail("line " + std::to_string(line_no) + ": no ':'");
    std::string_view name = trim_wsp(line.substr(0, colon));
    std::string_view value = trim_wsp(line.substr(colon + 1));
    if (name == "version" && !have_version) {
      if (line_no != 1 || value != "STSv1") return util::fail("the first line must be version: STSv1");
      have_version = true;
    } else if (name == "mode" && !have_mode) {
      if (value == "enforce") p.mode = StsMode::enforce;
      else if (value == "testing") p.mode = StsMode::testing;
      else if (value == "none") p.mode = StsMode::none;
      else return util::fail("unknown mode \"" + std::string(value.substr(0, 32)) + "\"");
      have_mode = true;
    } else if (name == "max_age" && !have_max_age) {
      auto v = value.size() <= 10 ? util::parse_uint(value) : std::nullopt;
      if (!v || *v > 31557600) return util::fail("max_age must be 0 to 31557600");
      p.max_age = static_cast<std::uint32_t>(*v);
      have_max_age = true;
    } else if (name == "mx") {
      if (!valid_mx_pattern(value)) return util::fail("bad mx pattern \"" + std::string(value.substr(0, 64)) + "\"");
      p.mx.push_back(util::to_lower(value));
    }
  }
  if (!have_version) return util::fail("no version field");
  if (!have_mode) return util::fail("no mode field");
  if (!have_max_age) return util::fail("no max_age field");
  if (p.mode != StsMode::none && p.mx.empty()) return util::fail("no mx field");
  return p;
}

bool sts_mx_matches(std::string_view pattern_in, std::string_view host_in) {
  std::string pattern = util::to_lower(pattern_in), host = util::to_lower(host_in);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (!pattern.starts_with("*.")) return pattern == host;
  std::string_view rest = std::string_view(pattern).substr(1);  // ".example.com"
  if (host.size() <= rest.size() || !host.ends_with(rest)) return false;
  return std::string_view(host).substr(0, host.size() - rest.size()).find('.') == std::string_view::npos;
}

bool sts_allows_mx(const StsPolicy& policy, std::string_view host) {
  for (const auto& p : policy.mx)
    if (sts_mx_matches(p, host)) return true;
  return false;
}

}  // namespace mailmoat::tls
