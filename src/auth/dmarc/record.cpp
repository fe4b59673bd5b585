#include "auth/dmarc/record.h"

#include <cctype>

#include "util/strings.h"

namespace mailmoat::auth::dmarc {
namespace {

std::optional<Policy> parse_policy(std::string_view v) {
  if (util::iequals(v, "none")) return Policy::none;
  if (util::iequals(v, "quarantine")) return Policy::quarantine;
  if (util::iequals(v, "reject")) return Policy::reject;
  return std::nullopt;
}

std::optional<Alignment> parse_alignment(std::string_view v) {
  if (util::iequals(v, "r")) return Alignment::relaxed;
  if (util::iequals(v, "s")) return Alignment::strict;
  return std::nullopt;
}

std::vector<std::string> parse_uris(std::string_view v) {
  std::vector<std::string> out;
  for (auto u : util::split(v, ',')) {
    u = util::trim(u);
    if (!u.empty()) out.emplace_back(u);
  }
  return out;
}

bool valid_tag_name(std::string_view t) {
  if (t.empty() || !std::isalpha(static_cast<unsigned char>(t[0]))) return false;
  for (char c : t)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

void apply_tag(Record& r, std::string_view tag, std::string_view value) {
  if (tag == "p") {
    if (auto p = parse_policy(value)) r.p = *p, r.p_valid = true;
  } else if (tag == "sp") {
    r.sp = parse_policy(value);
  } else if (tag == "np") {
    r.np = parse_policy(value);
  } else if (tag == "adkim") {
    r.adkim = parse_alignment(value).value_or(Alignment::relaxed);
  } else if (tag == "aspf") {
    r.aspf = parse_alignment(value).value_or(Alignment::relaxed);
  } else if (tag == "psd") {
    r.psd = util::iequals(value, "y") ? PsdFlag::yes : util::iequals(value, "n") ? PsdFlag::no : PsdFlag::unset;
  } else if (tag == "t") {
    r.testing = util::iequals(value, "y");
  } else if (tag == "pct") {
    if (auto v = util::parse_uint(value); v && *v <= 100) r.pct = static_cast<unsigned>(*v);
  } else if (tag == "rua") {
    r.rua = parse_uris(value);
  } else if (tag == "ruf") {
    r.ruf = parse_uris(value);
  } else if (tag == "fo") {
    r.fo = std::string(value);
  }
}

}  // namespace

std::string_view to_string(Policy p) {
  switch (p) {
    case Policy::none: return "none";
    case Policy::quarantine: return "quarantine";
    case Policy::reject: return "reject";
  }
  return "none";
}

bool is_dmarc_record(std::string_view txt) {
  txt = util::trim(txt);
  if (!txt.starts_with("v")) return false;
  txt.remove_prefix(1);
  txt = util::trim(txt);
  if (!txt.starts_with("=")) return false;
  txt = util::trim(txt.substr(1));
  return txt.starts_with("DMARC1") && (txt.size() == 6 || txt[6] == ';' || txt[6] == ' ' || txt[6] == '\t');
}

util::Result<Record> parse_record(std::string_view txt) {
  if (!is_dmarc_record(txt)) return util::fail("not a DMARC record (must start with v=DMARC1)");
  Record r;
  bool first = true;
  for (auto part : util::split(txt, ';')) {
    part = util::trim(part);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return util::fail("tag without '=': \"" + std::string(part) + "\"");
    std::string tag = util::to_lower(util::trim(part.substr(0, eq)));
    std::string_view value = util::trim(part.substr(eq + 1));
    if (!valid_tag_name(tag)) return util::fail("invalid tag name \"" + tag + "\"");
    if (first) {
      first = false;  // v=DMARC1, checked above
      continue;
    }
    if (tag == "v") return util::fail("v= must be the first and only version tag");
    apply_tag(r, tag, value);
  }
  return r;
}

}  // namespace mailmoat::auth::dmarc
