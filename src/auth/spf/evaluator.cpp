// check_host() of RFC 7208 §4 as coroutines: one for a domain's record, one
// per DNS-querying mechanism. All lookups share one Evaluation, which holds
// the §4.6.4 counters across include and redirect recursion.
#include <algorithm>

#include "auth/spf/macro.h"
#include "auth/spf/record.h"
#include "auth/spf/spf.h"
#include "util/strings.h"

namespace mailmoat::auth::spf {
namespace {

using dns::RecordType;
using dns::Status;
using dns::Task;

struct Outcome {
  Verdict verdict = Verdict::neutral;
  std::string mechanism, explanation, problem;
};

enum class Match { no, yes, temperror, permerror };
struct MatchResult {
  Match match = Match::no;
  std::string problem;
};

struct Evaluation {
  dns::Resolver& resolver;
  const Request& request;
  const Options& options;
  MacroContext macros;
  int lookups = 0;
  int voids = 0;
};

bool is_dns_error(Status s) { return s == Status::servfail || s == Status::timeout; }
bool is_void(Status s) { return s == Status::nxdomain || s == Status::nodata; }

// §4.3: a <domain> that is no valid multi-label name gives "none".
bool valid_domain(std::string_view d) {
  if (d.empty() || d.size() > 253 || d.find_first_of("[]") != std::string_view::npos) return false;
  auto labels = util::split(d, '.');
  if (labels.size() < 2) return false;
  for (auto l : labels)
    if (l.empty() || l.size() > 63) return false;
  return true;
}

// A name produced by macro expansion that no DNS query can carry (an empty
// or over-long label) cannot exist; it matches nothing.
bool queryable(std::string_view d) {
  if (d.empty()) return false;
  for (auto l : util::split(d, '.'))
    if (l.empty() || l.size() > 63) return false;
  return true;
}

MatchResult count_void(Evaluation& ev) {
  if (++ev.voids > ev.options.max_void_lookups)
    return {Match::permerror, "more than " + std::to_string(ev.options.max_void_lookups) + " void DNS lookups"};
  return {};
}

bool address_matches(const Evaluation& ev, const std::vector<std::string>& addresses, const Mechanism& m) {
  for (const auto& text : addresses) {
    auto a = dns::IpAddress::parse(text);
    if (a && ev.request.ip.in_network(*a, ev.request.ip.v6 ? m.cidr6 : m.cidr4)) return true;
  }
  return false;
}

// §5.5: PTR names of the client whose forward lookup returns the client (at most 10).
Task<std::vector<std::string>> validated_names(Evaluation& ev) {
  std::vector<std::string> out;
  auto ptr = co_await dns::query(ev.resolver, ev.request.ip.reverse_name(), RecordType::ptr);
  if (ptr.status != Status::ok) co_return out;
  auto type = ev.request.ip.v6 ? RecordType::aaaa : RecordType::a;
  int n = 0;
  for (const auto& name : ptr.names) {
    if (++n > ev.options.max_ptr_names) break;
    if (!queryable(name)) continue;
    auto addr = co_await dns::query(ev.resolver, name, type);
    for (const auto& text : addr.addresses)
      if (auto a = dns::IpAddress::parse(text); a && *a == ev.request.ip) {
        out.push_back(name);
        break;
      }
  }
  co_return out;
}

bool is_subdomain(std::string_view name, std::string_view domain) {
  if (name.size() == domain.size()) return util::iequals(name, domain);
  return name.size() > domain.size() && name[name.size() - domain.size() - 1] == '.' &&
         util::iequals(name.substr(name.size() - domain.size()), domain);
}

// Expands a domain-spec (empty = current domain), looking up %{p} first when used.
Task<util::Result<std::string>> target_of(Evaluation& ev, const std::string& spec, const std::string& domain) {
  if (spec.empty()) co_return domain;
  MacroContext ctx = ev.macros;
  ctx.domain = domain;
  if (uses_p_macro(spec)) {
    auto names = co_await validated_names(ev);
    auto pick = std::find_if(names.begin(), names.end(), [&](auto& n) { return is_subdomain(n, domain); });
    ctx.validated_name = pick != names.end() ? *pick : names.empty() ? "unknown" : names.front();
  }
  co_return expand(spec, ctx, MacroUse::domain);
}

MatchResult dns_failure(const std::string& name, Status s) {
  return {Match::temperror, std::string(s == Status::timeout ? "DNS timeout" : "DNS failure") + " for " + name};
}

Task<MatchResult> match_address(Evaluation& ev, const Mechanism& m, const std::string& target) {
  auto type = m.kind == MechanismKind::exists ? RecordType::a
              : ev.request.ip.v6               ? RecordType::aaaa
                                               : RecordType::a;
  if (!queryable(target)) co_return count_void(ev);
  auto ans = co_await dns::query(ev.resolver, target, type);
  if (is_dns_error(ans.status)) co_return dns_failure(target, ans.status);
  if (is_void(ans.status)) co_return count_void(ev);
  if (m.kind == MechanismKind::exists) co_return MatchResult{Match::yes, {}};
  co_return MatchResult{address_matches(ev, ans.addresses, m) ? Match::yes : Match::no, {}};
}

Task<MatchResult> match_mx(Evaluation& ev, const Mechanism& m, const std::string& target) {
  if (!queryable(target)) co_return count_void(ev);
  auto ans = co_await dns::query(ev.resolver, target, RecordType::mx);
  if (is_dns_error(ans.status)) co_return dns_failure(target, ans.status);
  if (is_void(ans.status)) co_return count_void(ev);
  // §4.6.4: at most 10 MX names get address lookups; needing an 11th is permerror.
  auto type = ev.request.ip.v6 ? RecordType::aaaa : RecordType::a;
  int looked_up = 0;
  for (const auto& mx : ans.mx) {
    if (++looked_up > ev.options.max_mx_names)
      co_return MatchResult{Match::permerror, "more than " + std::to_string(ev.options.max_mx_names) + " MX records for " + target};
    if (!queryable(mx.exchange)) continue;
    auto addr = co_await dns::query(ev.resolver, mx.exchange, type);
    if (is_dns_error(addr.status)) co_return dns_failure(mx.exchange, addr.status);
    if (address_matches(ev, addr.addresses, m)) co_return MatchResult{Match::yes, {}};
  }
  co_return MatchResult{};
}

Task<MatchResult> match_ptr(Evaluation& ev, const std::string& target) {
  auto ptr = co_await dns::query(ev.resolver, ev.request.ip.reverse_name(), RecordType::ptr);
  if (is_void(ptr.status)) co_return count_void(ev);
  auto names = co_await validated_names(ev);
  for (const auto& n : names)
    if (is_subdomain(n, target)) co_return MatchResult{Match::yes, {}};
  co_return MatchResult{};
}

Task<Outcome> check_domain(Evaluation& ev, std::string domain);

Task<MatchResult> match_include(Evaluation& ev, const std::string& target) {
  Outcome inner = co_await check_domain(ev, target);
  switch (inner.verdict) {
    case Verdict::pass: co_return MatchResult{Match::yes, {}};
    case Verdict::temperror: co_return MatchResult{Match::temperror, inner.problem};
    case Verdict::permerror: co_return MatchResult{Match::permerror, inner.problem};
    case Verdict::none: co_return MatchResult{Match::permerror, "included domain " + target + " has no SPF record"};
    default: co_return MatchResult{};
  }
}

Task<MatchResult> match(Evaluation& ev, const Mechanism& m, const std::string& domain) {
  switch (m.kind) {
    case MechanismKind::all: co_return MatchResult{Match::yes, {}};
    case MechanismKind::ip4:
    case MechanismKind::ip6: {
      unsigned prefix = m.network.v6 ? m.cidr6 : m.cidr4;
      co_return MatchResult{ev.request.ip.in_network(m.network, prefix) ? Match::yes : Match::no, {}};
    }
    default: break;
  }
  if (++ev.lookups > ev.options.max_dns_lookups)
    co_return MatchResult{Match::permerror, "more than " + std::to_string(ev.options.max_dns_lookups) + " DNS-querying terms"};
  auto target = co_await target_of(ev, m.domain_spec, domain);
  if (!target) co_return MatchResult{Match::permerror, target.error().message};
  switch (m.kind) {
    case MechanismKind::include: co_return co_await match_include(ev, *target);
    case MechanismKind::mx: co_return co_await match_mx(ev, m, *target);
    case MechanismKind::ptr: co_return co_await match_ptr(ev, *target);
    default: co_return co_await match_address(ev, m, *target);
  }
}

Verdict verdict_of(Qualifier q) {
  switch (q) {
    case Qualifier::pass: return Verdict::pass;
    case Qualifier::fail: return Verdict::fail;
    case Qualifier::softfail: return Verdict::softfail;
    case Qualifier::neutral: return Verdict::neutral;
  }
  return Verdict::neutral;
}

// §6.2: the explanation for a fail; any problem silently yields the default.
Task<std::string> explain(Evaluation& ev, const Record& record, const std::string& domain) {
  MacroContext ctx = ev.macros;
  ctx.domain = domain;
  auto fallback = expand(ev.options.default_explanation, ctx, MacroUse::explanation);
  std::string def = fallback ? *fallback : ev.options.default_explanation;
  if (!record.exp) co_return def;
  auto target = co_await target_of(ev, *record.exp, domain);
  if (!target || !queryable(*target)) co_return def;
  auto ans = co_await dns::query(ev.resolver, *target, RecordType::txt);
  if (ans.status != Status::ok || ans.txt.size() != 1) co_return def;
  if (uses_p_macro(ans.txt[0])) {
    auto names = co_await validated_names(ev);
    auto pick = std::find_if(names.begin(), names.end(), [&](auto& n) { return is_subdomain(n, domain); });
    ctx.validated_name = pick != names.end() ? *pick : names.empty() ? "unknown" : names.front();
  }
  auto text = expand(ans.txt[0], ctx, MacroUse::explanation);
  co_return text ? *text : def;
}

Outcome error(Verdict v, std::string problem) { return Outcome{v, {}, {}, std::move(problem)}; }

Task<Outcome> check_domain(Evaluation& ev, std::string domain) {
  if (!valid_domain(domain)) co_return error(Verdict::none, "\"" + domain + "\" is not a valid domain name");
  auto ans = co_await dns::query(ev.resolver, domain, RecordType::txt);
  if (is_dns_error(ans.status)) co_return error(Verdict::temperror, dns_failure(domain, ans.status).problem);
  std::vector<std::string> records;
  for (auto& txt : ans.txt)
    if (is_spf_record(txt)) records.push_back(txt);
  if (records.empty()) co_return error(Verdict::none, "no SPF record at " + domain);
  if (records.size() > 1) co_return error(Verdict::permerror, "more than one SPF record at " + domain);
  // cppcheck-suppress containerOutOfBounds ; co_return above leaves on empty (unknown to cppcheck 2.10)
  auto record = parse_record(records.front());
  if (!record) co_return error(Verdict::permerror, record.error().message);

  for (const auto& m : record->mechanisms) {
    MatchResult r = co_await match(ev, m, domain);
    if (r.match == Match::temperror) co_return error(Verdict::temperror, r.problem);
    if (r.match == Match::permerror) co_return error(Verdict::permerror, r.problem);
    if (r.match == Match::no) continue;
    Outcome out{verdict_of(m.qualifier), m.text, {}, {}};
    if (out.verdict == Verdict::fail) out.explanation = co_await explain(ev, *record, domain);
    co_return out;
  }
  if (!record->redirect) co_return Outcome{Verdict::neutral, "default", {}, {}};
  if (++ev.lookups > ev.options.max_dns_lookups)
    co_return error(Verdict::permerror, "more than " + std::to_string(ev.options.max_dns_lookups) + " DNS-querying terms");
  auto target = co_await target_of(ev, *record->redirect, domain);
  if (!target) co_return error(Verdict::permerror, target.error().message);
  Outcome out = co_await check_domain(ev, *target);
  if (out.verdict == Verdict::none) co_return error(Verdict::permerror, "redirect target " + *target + " has no SPF record");
  co_return out;
}

}  // namespace

Task<SpfResult> check_host_task(dns::Resolver& resolver, Request request, Options options) {
  Evaluation ev{resolver, request, options, {}, 0, 0};
  std::size_t at = request.sender.rfind('@');
  ev.macros.sender = request.sender;
  ev.macros.local_part = at == std::string::npos ? "postmaster" : request.sender.substr(0, at);
  if (ev.macros.local_part.empty()) ev.macros.local_part = "postmaster";
  ev.macros.sender_domain = at == std::string::npos ? request.sender : request.sender.substr(at + 1);
  ev.macros.ip = request.ip;
  ev.macros.helo = request.helo;
  ev.macros.receiver = options.receiver;
  ev.macros.now = request.now;
  std::string domain = dns::canonical_name(request.domain);
  Outcome out = co_await check_domain(ev, domain);
  SpfResult result;
  result.verdict = out.verdict;
  result.request = std::move(request);
  result.mechanism = std::move(out.mechanism);
  result.explanation = std::move(out.explanation);
  result.problem = std::move(out.problem);
  result.dns_lookups = ev.lookups;
  result.void_lookups = ev.voids;
  co_return result;
}

}  // namespace mailmoat::auth::spf
