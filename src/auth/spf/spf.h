// SPF, RFC 7208: check_host() (§4) for the MAIL FROM and HELO identities,
// with the §4.6.4 limits (10 DNS-querying terms, 2 void lookups, 10 MX and
// 10 PTR names), exp= explanations (§6.2) and the Received-SPF field (§9.1).
// Evaluation is a dns::Task coroutine over dns::Resolver: it never blocks a
// thread, and against a ZoneResolver it completes inside the call.
//
//   auto req = spf::mailfrom_request(ip, "user@example.com", "mail.example.com");
//   spf::check_host(resolver, req, {}, [](spf::SpfResult r) { ... });   // any resolver
//   spf::SpfResult r = spf::check_host(zone_resolver, req);              // synchronous
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "dns/ip_address.h"
#include "dns/resolver.h"
#include "dns/task.h"
#include "dns/zone_resolver.h"

namespace mailmoat::auth::spf {

enum class Verdict { none, neutral, pass, fail, softfail, temperror, permerror };
std::string_view to_string(Verdict v);

enum class Identity { mailfrom, helo };
std::string_view to_string(Identity i);

struct Request {
  dns::IpAddress ip;
  std::string domain;   // the <domain> argument of check_host()
  std::string sender;   // local-part@domain; postmaster@helo for the HELO identity
  std::string helo;     // %{h}
  Identity identity = Identity::mailfrom;
  std::int64_t now = 0; // %{t}, Unix seconds from the caller's clock
};

// MAIL FROM identity; an empty reverse path checks the HELO identity (§2.4).
Request mailfrom_request(const dns::IpAddress& ip, std::string_view mail_from, std::string_view helo);
Request helo_request(const dns::IpAddress& ip, std::string_view helo);

struct Options {
  std::string receiver;  // %{r} and the Received-SPF receiver; "unknown" if empty
  std::string default_explanation = "SPF fail: %{i} is not authorized to send for %{d}";
  int max_dns_lookups = 10;
  int max_void_lookups = 2;
  int max_mx_names = 10;
  int max_ptr_names = 10;
};

struct SpfResult {
  Verdict verdict = Verdict::none;
  Request request;
  std::string mechanism;    // the term that matched, "default" when none did, "" otherwise
  std::string explanation;  // fail only: the exp= text or the default explanation
  std::string problem;      // temperror/permerror: what went wrong
  int dns_lookups = 0;
  int void_lookups = 0;
};

dns::Task<SpfResult> check_host_task(dns::Resolver& resolver, Request request, Options options = {});

// Calls `done` exactly once, possibly before returning.
void check_host(dns::Resolver& resolver, Request request, Options options,
                std::move_only_function<void(SpfResult)> done);

// Synchronous convenience for the zone resolver, which always answers at once.
SpfResult check_host(dns::ZoneResolver& resolver, Request request, Options options = {});

// "Received-SPF: pass (receiver: reason) client-ip=...; envelope-from=...; ..."
// folded with CRLF + TAB, without the final CRLF.
std::string received_spf_field(const SpfResult& result, std::string_view receiver);

}  // namespace mailmoat::auth::spf
