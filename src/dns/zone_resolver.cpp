#include "dns/zone_resolver.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "dns/ip_address.h"
#include "dns/zone_file.h"
#include "util/strings.h"

namespace mailmoat::dns {

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return util::to_lower(name);
}

ZoneResolver::Node& ZoneResolver::node(std::string_view name, std::uint32_t ttl) {
  std::string key = canonical_name(name);
  auto it = nodes_.find(key);
  if (it == nodes_.end()) it = nodes_.emplace(std::move(key), Node{}).first;
  it->second.ttl = std::min(it->second.ttl, ttl);
  return it->second;
}

// Addresses are stored in canonical text so "CAFE:BABE::1" answers as
// "cafe:babe::1"; text that is no address is kept as given (a broken zone).
static std::string normal_address(std::string_view text) {
  auto ip = IpAddress::parse(text);
  return ip ? ip->to_string() : std::string(text);
}

void ZoneResolver::add_a(std::string_view name, std::string_view address, std::uint32_t ttl) {
  node(name, ttl).a.push_back(normal_address(address));
}
void ZoneResolver::add_aaaa(std::string_view name, std::string_view address, std::uint32_t ttl) {
  node(name, ttl).aaaa.push_back(normal_address(address));
}
void ZoneResolver::add_txt(std::string_view name, const std::vector<std::string>& strings,
                           std::uint32_t ttl) {
  std::string joined;
  for (const auto& s : strings) joined += s;
  node(name, ttl).txt.push_back(std::move(joined));
}
void ZoneResolver::add_mx(std::string_view name, std::uint16_t preference,
                          std::string_view exchange, std::uint32_t ttl) {
  node(name, ttl).mx.push_back(MxRecord{preference, canonical_name(exchange)});
}
void ZoneResolver::add_ptr(std::string_view name, std::string_view target, std::uint32_t ttl) {
  node(name, ttl).ptr.push_back(canonical_name(target));
}
void ZoneResolver::add_cname(std::string_view name, std::string_view target, std::uint32_t ttl) {
  node(name, ttl).cname = canonical_name(target);
}
void ZoneResolver::add_tlsa(std::string_view name, TlsaRecord record, std::uint32_t ttl) {
  node(name, ttl).tlsa.push_back(std::move(record));
}
void ZoneResolver::add_name(std::string_view name) { node(name, default_ttl); }
void ZoneResolver::fail(std::string_view name, Status status) {
  node(name, default_ttl).failure = status;
}

bool ZoneResolver::has_type(const Node& n, RecordType type) {
  switch (type) {
    case RecordType::a: return !n.a.empty();
    case RecordType::aaaa: return !n.aaaa.empty();
    case RecordType::txt: return !n.txt.empty();
    case RecordType::ptr: return !n.ptr.empty();
    case RecordType::mx: return !n.mx.empty();
    case RecordType::tlsa: return !n.tlsa.empty();
  }
  return false;
}

void ZoneResolver::fill(const Node& n, RecordType type, Answer& out) {
  switch (type) {
    case RecordType::a: out.addresses = n.a; break;
    case RecordType::aaaa: out.addresses = n.aaaa; break;
    case RecordType::txt: out.txt = n.txt; break;
    case RecordType::ptr: out.names = n.ptr; break;
    case RecordType::mx:
      out.mx = n.mx;
      std::stable_sort(out.mx.begin(), out.mx.end(),
                       [](const MxRecord& x, const MxRecord& y) { return x.preference < y.preference; });
      break;
    case RecordType::tlsa: out.tlsa = n.tlsa; break;
  }
}

Answer ZoneResolver::lookup(const Question& question) const {
  Answer out;
  out.authenticated = authenticated_;
  std::string name = canonical_name(question.name);
  std::uint32_t ttl = default_ttl;
  for (int hop = 0; hop <= 8; ++hop) {
    auto it = nodes_.find(name);
    if (it == nodes_.end()) {
      out.status = Status::nxdomain;
      return out;
    }
    const Node& n = it->second;
    ttl = std::min(ttl, n.ttl);
    if (has_type(n, question.type)) {
      fill(n, question.type, out);
      out.status = Status::ok;
      out.ttl = ttl;
      if (hop > 0) out.canonical_name = name;  // reached through a CNAME chain
      return out;
    }
    if (n.failure) {
      out.status = *n.failure;
      return out;
    }
    if (!n.cname) {
      out.status = Status::nodata;
      out.ttl = ttl;
      return out;
    }
    name = *n.cname;
  }
  out.status = Status::servfail;  // CNAME chain too long or looping
  return out;
}

void ZoneResolver::resolve(Question question, Callback done) {
  queries_.fetch_add(1, std::memory_order_relaxed);
  done(lookup(question));
}

util::Result<void> ZoneResolver::load_file(const std::string& path, std::string_view origin) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::fail(path + ": cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return load(text.str(), origin, path);
}

}  // namespace mailmoat::dns

namespace mailmoat::dns {
namespace {

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = util::ascii_lower(c);
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    int hi = nib(hex[i]), lo = nib(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::optional<std::uint8_t> small(const std::string& s) {
  auto v = util::parse_uint(s);
  if (!v || *v > 255) return std::nullopt;
  return static_cast<std::uint8_t>(*v);
}

}  // namespace

util::Result<void> ZoneResolver::load(std::string_view text, std::string_view origin,
                                      std::string_view source) {
  auto entries = parse_master_file(text, origin, source, default_ttl);
  if (!entries) return std::unexpected(entries.error());
  for (const ZoneEntry& e : *entries) {
    auto bad = [&](const std::string& why) {
      return util::fail(std::string(source) + ":" + std::to_string(e.line) + ": " + e.type + " " + why);
    };
    const auto& r = e.rdata;
    if (e.type == "A" || e.type == "AAAA") {
      auto ip = r.size() == 1 ? IpAddress::parse(r[0]) : std::nullopt;
      if (!ip || ip->v6 != (e.type == "AAAA")) return bad("needs one address");
      (e.type == "A" ? node(e.owner, e.ttl).a : node(e.owner, e.ttl).aaaa).push_back(ip->to_string());
    } else if (e.type == "TXT" || e.type == "SPF") {
      add_txt(e.owner, r, e.ttl);
    } else if (e.type == "MX") {
      auto pref = r.size() == 2 ? util::parse_uint(r[0]) : std::nullopt;
      if (!pref || *pref > 65535) return bad("needs a preference and an exchange");
      std::string exchange = r[1] == "." ? "" : absolute_name(r[1], e.origin);
      node(e.owner, e.ttl).mx.push_back(MxRecord{static_cast<std::uint16_t>(*pref), exchange});
    } else if (e.type == "PTR" || e.type == "CNAME") {
      if (r.size() != 1) return bad("needs one name");
      if (e.type == "PTR") add_ptr(e.owner, absolute_name(r[0], e.origin), e.ttl);
      else add_cname(e.owner, absolute_name(r[0], e.origin), e.ttl);
    } else if (e.type == "TLSA") {
      std::string hex;
      for (std::size_t i = 3; i < r.size(); ++i) hex += r[i];
      auto u = r.size() >= 4 ? small(r[0]) : std::nullopt;
      auto s = r.size() >= 4 ? small(r[1]) : std::nullopt;
      auto m = r.size() >= 4 ? small(r[2]) : std::nullopt;
      auto data = hex_decode(hex);
      if (!u || !s || !m || !data) return bad("needs usage, selector, matching type and hex data");
      add_tlsa(e.owner, TlsaRecord{*u, *s, *m, std::move(*data)}, e.ttl);
    } else if (e.type == "SOA" || e.type == "NS" || e.type == "DS" || e.type == "DNSKEY" ||
               e.type == "RRSIG" || e.type == "NSEC" || e.type == "NSEC3") {
      add_name(e.owner);  // carried by real zones, not served here
    } else {
      return bad("is not a supported record type");
    }
  }
  return {};
}

}  // namespace mailmoat::dns
