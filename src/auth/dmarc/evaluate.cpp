// DMARC verdict (RFC 9989 §4.8-4.9, RFC 7489 §6.6): identifier alignment,
// the policy that applies to the From domain, receiver overrides, compauth.
#include <optional>

#include "auth/dmarc/discovery.h"
#include "util/strings.h"

namespace mailmoat::auth::dmarc {

std::string_view to_string(AuthOutcome o) {
  switch (o) {
    case AuthOutcome::none: return "none";
    case AuthOutcome::pass: return "pass";
    case AuthOutcome::fail: return "fail";
    case AuthOutcome::softfail: return "softfail";
    case AuthOutcome::neutral: return "neutral";
    case AuthOutcome::temperror: return "temperror";
    case AuthOutcome::permerror: return "permerror";
    case AuthOutcome::policy: return "policy";
  }
  return "none";
}

std::string_view to_string(Override o) {
  switch (o) {
    case Override::none: return "none";
    case Override::testing: return "sampled_out";
    case Override::local_policy: return "local_policy";
    case Override::trusted_forwarder: return "trusted_forwarder";
    case Override::mailing_list: return "mailing_list";
  }
  return "none";
}

std::string_view to_string(Verdict v) {
  switch (v) {
    case Verdict::none: return "none";
    case Verdict::pass: return "pass";
    case Verdict::fail: return "fail";
    case Verdict::temperror: return "temperror";
    case Verdict::permerror: return "permerror";
  }
  return "none";
}

std::string_view to_string(CompVerdict v) {
  switch (v) {
    case CompVerdict::pass: return "pass";
    case CompVerdict::fail: return "fail";
    case CompVerdict::softpass: return "softpass";
    case CompVerdict::none: return "none";
  }
  return "none";
}

namespace {

bool under(const std::string& name, const std::string& org) {
  return name == org || (name.size() > org.size() && name.ends_with(org) && name[name.size() - org.size() - 1] == '.');
}

struct Aligned {
  bool yes = false;
  bool temperror = false;
};

// Strict: the same name. Relaxed: the same organizational domain; org(id) is
// an ancestor-or-self of id, so ids outside org(from) need no query.
dns::Task<Aligned> aligned(Discovery& d, std::string id, const std::string& from, const std::string& from_org,
                           Alignment mode) {
  id = dns::canonical_name(id);
  if (id == from) co_return Aligned{true, false};
  if (mode == Alignment::strict || !under(id, from_org)) co_return Aligned{};
  OrgDomain org = co_await d.organizational_domain(id);
  co_return Aligned{!org.temperror && org.name == from_org, org.temperror};
}

Policy weaker(Policy p) { return p == Policy::reject ? Policy::quarantine : Policy::none; }

// Implicit authentication for mail that DMARC does not decide (docs/dmarc.md).
void implicit_compauth(DmarcResult& r, const Input& in, bool spf_pass_unaligned, bool dkim_pass_unaligned) {
  auto set = [&](CompVerdict v, int code) { r.compauth = v, r.compauth_reason = code; };
  if (r.dkim_aligned) return set(CompVerdict::pass, 101);
  if (r.spf_aligned) return set(CompVerdict::pass, 102);
  if (in.trusted_arc) return set(CompVerdict::pass, 130);
  if (dkim_pass_unaligned) return set(CompVerdict::softpass, 201);
  if (spf_pass_unaligned) return set(CompVerdict::softpass, 202);
  if (in.spf.result == AuthOutcome::fail || in.spf.result == AuthOutcome::softfail) return set(CompVerdict::fail, 1);
  set(CompVerdict::fail, 2);
}

void decide_compauth(DmarcResult& r, const Input& in, bool spf_unaligned, bool dkim_unaligned) {
  if (r.verdict == Verdict::pass) {
    r.compauth = CompVerdict::pass, r.compauth_reason = 100;
  } else if (r.verdict == Verdict::temperror) {
    r.compauth = CompVerdict::none, r.compauth_reason = 401;
  } else if (r.verdict == Verdict::fail && r.requested != Policy::none && !in.trusted_arc) {
    r.compauth = CompVerdict::fail, r.compauth_reason = 0;
  } else {
    implicit_compauth(r, in, spf_unaligned, dkim_unaligned);
  }
}

dns::Task<void> check_alignment(Discovery& d, const Input& in, DmarcResult& r, bool& temperror) {
  const Record& rec = r.record;
  if (in.spf.result == AuthOutcome::pass || in.spf.result == AuthOutcome::temperror) {
    Aligned a = co_await aligned(d, in.spf.domain, r.from_domain, r.org_domain, rec.aspf);
    if (a.yes && in.spf.result == AuthOutcome::pass) r.spf_aligned = true;
    if (a.temperror || (a.yes && in.spf.result == AuthOutcome::temperror)) temperror = true;
  }
  for (const auto& sig : in.dkim) {
    if (r.dkim_aligned) break;
    if (sig.result != AuthOutcome::pass && sig.result != AuthOutcome::temperror) continue;
    Aligned a = co_await aligned(d, sig.domain, r.from_domain, r.org_domain, rec.adkim);
    if (a.yes && sig.result == AuthOutcome::pass) {
      r.dkim_aligned = true;
      r.dkim_domain = dns::canonical_name(sig.domain);
      r.dkim_selector = sig.selector;
    }
    if (a.temperror || (a.yes && sig.result == AuthOutcome::temperror)) temperror = true;
  }
}

std::string describe(const DmarcResult& r) {
  switch (r.verdict) {
    case Verdict::none: return "no DMARC record for " + r.from_domain;
    case Verdict::temperror: return "DNS failure during DMARC evaluation";
    case Verdict::permerror: return "malformed DMARC record";
    case Verdict::pass:
      return r.dkim_aligned ? "aligned DKIM signature of " + r.dkim_domain : "aligned SPF pass";
    case Verdict::fail: return "neither SPF nor DKIM passed aligned with " + r.from_domain;
  }
  return {};
}

}  // namespace

void apply_override(DmarcResult& r, Override reason) {
  if (r.verdict != Verdict::fail || reason == Override::none) return;
  r.override_reason = reason;
  r.applied = reason == Override::testing ? weaker(r.requested) : Policy::none;
}

dns::Task<DmarcResult> evaluate_task(dns::Resolver& resolver, Input in, Options options) {
  Discovery d(resolver, options);
  DmarcResult r;
  r.from_domain = dns::canonical_name(in.from_domain);
  if (r.from_domain.empty() || r.from_domain.find('.') == std::string::npos) {
    r.verdict = Verdict::permerror;
    r.reason = "no usable RFC5322.From domain";
    r.compauth = CompVerdict::none, r.compauth_reason = 402;
    co_return r;
  }
  Discovered found = co_await d.policy(r.from_domain);
  OrgDomain org = co_await d.organizational_domain(r.from_domain);
  r.org_domain = org.name;
  bool temperror = found.verdict == Verdict::temperror || org.temperror;
  if (found.verdict == Verdict::pass) {
    r.policy_domain = found.domain;
    r.record = found.record;
    r.requested = r.record.p;
    if (found.domain != r.from_domain) {
      bool use_np = options.mode == Mode::rfc9989 && r.record.np && co_await d.nonexistent(r.from_domain);
      r.requested = use_np ? *r.record.np : r.record.sp.value_or(r.record.p);
    }
  }
  co_await check_alignment(d, in, r, temperror);
  bool spf_unaligned = in.spf.result == AuthOutcome::pass && !r.spf_aligned;
  bool dkim_unaligned = false;
  for (const auto& s : in.dkim) dkim_unaligned = dkim_unaligned || s.result == AuthOutcome::pass;
  dkim_unaligned = dkim_unaligned && !r.dkim_aligned;

  if (found.verdict != Verdict::pass) r.verdict = found.verdict;
  else if (r.spf_aligned || r.dkim_aligned) r.verdict = Verdict::pass;
  else r.verdict = temperror ? Verdict::temperror : Verdict::fail;
  r.applied = r.verdict == Verdict::fail ? r.requested : Policy::none;
  bool testing = r.record.testing || (options.mode == Mode::rfc7489 && r.record.pct == 0u);
  if (r.verdict == Verdict::fail && testing) apply_override(r, Override::testing);
  if (r.verdict == Verdict::fail && in.trusted_arc) apply_override(r, Override::trusted_forwarder);
  r.reason = found.verdict == Verdict::permerror ? found.problem : describe(r);
  decide_compauth(r, in, spf_unaligned, dkim_unaligned);
  r.dns_queries = d.queries();
  co_return r;
}

void evaluate(dns::Resolver& resolver, Input input, Options options, std::move_only_function<void(DmarcResult)> done) {
  dns::start(evaluate_task(resolver, std::move(input), options),
             [done = std::move(done)](DmarcResult r) mutable { done(std::move(r)); });
}

DmarcResult evaluate(dns::ZoneResolver& resolver, Input input, Options options) {
  std::optional<DmarcResult> out;
  evaluate(static_cast<dns::Resolver&>(resolver), std::move(input), options,
           [&out](DmarcResult r) { out = std::move(r); });
  return std::move(*out);
}

AggregateRecord aggregate_record(const DmarcResult& r, const Input& in, std::string source_ip) {
  AggregateRecord a;
  a.source_ip = std::move(source_ip);
  a.header_from = r.from_domain;
  a.policy_domain = r.policy_domain;
  a.disposition = r.applied;
  a.dmarc = r.verdict;
  a.spf = in.spf;
  a.dkim = in.dkim;
  a.override_reason = r.override_reason;
  return a;
}

}  // namespace mailmoat::auth::dmarc
