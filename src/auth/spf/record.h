// SPF record syntax (RFC 7208 §4.5 selection, §5 mechanisms, §6 modifiers,
// §12 ABNF). The whole record is parsed before evaluation so that any syntax
// error anywhere gives permerror (§4.6), even after a mechanism that would
// have matched. Unknown modifiers are checked for syntax and then ignored.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/ip_address.h"
#include "util/error.h"

namespace mailmoat::auth::spf {

enum class Qualifier { pass, fail, softfail, neutral };
enum class MechanismKind { all, include, a, mx, ptr, ip4, ip6, exists };

struct Mechanism {
  Qualifier qualifier = Qualifier::pass;
  MechanismKind kind = MechanismKind::all;
  std::string domain_spec;  // macro string; empty = the current domain (a, mx, ptr)
  dns::IpAddress network;   // ip4, ip6
  unsigned cidr4 = 32, cidr6 = 128;
  std::string text;         // the term as written, for reasons and headers
};

struct Record {
  std::vector<Mechanism> mechanisms;
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
};

// True when a TXT string is an SPF record: "v=spf1" then a space or the end.
bool is_spf_record(std::string_view txt);

// Parses a record that is_spf_record() accepted; the error names the bad term.
util::Result<Record> parse_record(std::string_view text);

}  // namespace mailmoat::auth::spf
