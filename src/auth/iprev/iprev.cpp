#include "auth/iprev/iprev.h"

#include <optional>

namespace mailmoat::auth::iprev {

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::temperror: return "temperror";
    case Verdict::permerror: return "permerror";
  }
  return "permerror";
}

static bool dns_error(dns::Status s) { return s == dns::Status::servfail || s == dns::Status::timeout; }

dns::Task<IprevResult> check_task(dns::Resolver& resolver, dns::IpAddress ip, int max_names) {
  IprevResult r;
  r.ip = ip;
  auto ptr = co_await dns::query(resolver, ip.reverse_name(), dns::RecordType::ptr);
  if (dns_error(ptr.status)) {
    r.verdict = Verdict::temperror;
    r.reason = "DNS failure looking up " + ip.reverse_name();
    co_return r;
  }
  if (ptr.status != dns::Status::ok) {
    r.verdict = Verdict::permerror;
    r.reason = "no PTR record for " + ip.to_string();
    co_return r;
  }
  r.ptr_names = ptr.names;
  r.name = ptr.names.front();
  bool had_error = false;
  int n = 0;
  for (const auto& name : ptr.names) {
    if (++n > max_names) break;
    auto fwd = co_await dns::query(resolver, name, ip.v6 ? dns::RecordType::aaaa : dns::RecordType::a);
    had_error = had_error || dns_error(fwd.status);
    for (const auto& text : fwd.addresses)
      if (auto a = dns::IpAddress::parse(text); a && *a == ip) {
        r.verdict = Verdict::pass;
        r.name = name;
        r.reason = name + " resolves back to " + ip.to_string();
        co_return r;
      }
  }
  r.verdict = had_error ? Verdict::temperror : Verdict::fail;
  r.reason = had_error ? "DNS failure confirming " + r.name : "no PTR name of " + ip.to_string() + " resolves back to it";
  co_return r;
}

void check(dns::Resolver& resolver, const dns::IpAddress& ip, std::move_only_function<void(IprevResult)> done) {
  dns::start(check_task(resolver, ip), [done = std::move(done)](IprevResult r) mutable { done(std::move(r)); });
}

IprevResult check(dns::ZoneResolver& resolver, const dns::IpAddress& ip) {
  std::optional<IprevResult> out;
  check(static_cast<dns::Resolver&>(resolver), ip, [&out](IprevResult r) { out = std::move(r); });
  return std::move(*out);
}

}  // namespace mailmoat::auth::iprev
