// iprev (RFC 8601 §3): forward-confirmed reverse DNS of the SMTP client.
// pass: a PTR name resolves back to the address; fail: names exist but none
// resolves back; permerror: no PTR data (NXDOMAIN/NODATA); temperror: a DNS
// failure that kept us from deciding. At most 10 PTR names are tried.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dns/ip_address.h"
#include "dns/resolver.h"
#include "dns/task.h"
#include "dns/zone_resolver.h"

namespace mailmoat::auth::iprev {

enum class Verdict { pass, fail, temperror, permerror };
std::string_view to_string(Verdict v);

struct IprevResult {
  Verdict verdict = Verdict::permerror;
  dns::IpAddress ip;
  std::string name;  // the confirmed name (pass), else the first PTR name
  std::vector<std::string> ptr_names;
  std::string reason;
};

dns::Task<IprevResult> check_task(dns::Resolver& resolver, dns::IpAddress ip, int max_names = 10);
void check(dns::Resolver& resolver, const dns::IpAddress& ip, std::move_only_function<void(IprevResult)> done);
IprevResult check(dns::ZoneResolver& resolver, const dns::IpAddress& ip);

}  // namespace mailmoat::auth::iprev
