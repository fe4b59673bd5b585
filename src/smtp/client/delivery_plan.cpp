#include "smtp/client/delivery_plan.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <map>
#include <random>

#include "log/log.h"
#include "tls/dane.h"

namespace mailmoat::smtp::delivery_plan {

namespace asio = boost::asio;

// A required TLS policy was not met: deferred (never sent in clear), marked for `queue retry --tls-failures`.
std::vector<RecipientResult> tls_failed(std::size_t n, const std::string& reason, const std::string& remote) {
  return std::vector<RecipientResult>(n, RecipientResult{Outcome::deferred, "451 4.7.5 " + reason, remote, true});
}

// `bogus` collects the names whose answers failed DNSSEC validation ("" for the MX lookup itself).
awaitable<std::vector<Target>> mx_targets(dns::Resolver& resolver, const std::string& domain, std::uint16_t port,
                                          std::string& error, bool& permanent, std::vector<std::string>& bogus) {
  std::vector<Target> targets;
  dns::Question mx_question{domain, dns::RecordType::mx};  // named: see ResolveInitiation
  dns::Answer mx = co_await resolve(resolver, std::move(mx_question));
  std::vector<std::string> hosts;
  if (mx.status == dns::Status::ok) {
    if (mx.mx.size() == 1 && mx.mx[0].exchange.empty()) {
      error = "556 5.1.10 recipient domain " + domain + " accepts no mail (null MX, RFC 7505)";
      permanent = true;
      co_return targets;
    }
    auto records = mx.mx;
    std::shuffle(records.begin(), records.end(), std::mt19937(std::random_device{}()));
    std::stable_sort(records.begin(), records.end(),
                     [](const dns::MxRecord& a, const dns::MxRecord& b) { return a.preference < b.preference; });
    for (const auto& r : records)
      if (!r.exchange.empty()) hosts.push_back(r.exchange);
  } else if (mx.status == dns::Status::nodata) {
    hosts.push_back(domain);  // RFC 5321 §5.1: the implicit MX
  } else if (mx.status == dns::Status::nxdomain) {
    error = "550 5.1.2 recipient domain " + domain + " does not exist";
    permanent = true;
    co_return targets;
  } else {
    error = "451 4.4.3 DNS lookup of MX for " + domain + " failed";
    if (mx.bogus) bogus.push_back("");
    co_return targets;
  }
  for (const auto& host : hosts) {
    for (auto type : kAddressTypes) {
      dns::Question question{host, type};
      dns::Answer a = co_await resolve(resolver, std::move(question));
      if (a.bogus) bogus.push_back(host);
      for (const auto& addr : a.addresses)
        targets.push_back({host, addr, port, mx.authenticated && a.authenticated, a.canonical_name, {}});
    }
  }
  if (targets.empty()) error = "451 4.4.4 no address found for the MX hosts of " + domain;
  co_return targets;
}

namespace {

// RFC 8460 §4.2: an STS policy-string is the policy's lines.
std::string sts_policy_lines(const tls::StsPolicy& p) {
  std::string out = "version: STSv1\nmode: ";
  out += p.mode == tls::StsMode::enforce ? "enforce" : p.mode == tls::StsMode::testing ? "testing" : "none";
  out += "\n";
  for (const auto& mx : p.mx) out += "mx: " + mx + "\n";
  return out + "max_age: " + std::to_string(p.max_age) + "\n";
}

}  // namespace

// RFC 7672 §2.2: per host, DNSSEC-validated TLSA records at _port._tcp.<host> decide how a dane or
// dane-only delivery uses TLS there. True when at least one host got DANE authentication.
awaitable<bool> resolve_dane(dns::Resolver& resolver, std::vector<Target>& targets, const TlsPlan& base,
                             tls::ClientContextCache& contexts, bool requiretls) {
  bool any = false;
  const bool only = base.policy.level == tls::Level::dane_only;
  const std::string level = std::string(tls::level_name(base.policy.level)) + " (" + base.policy.origin + ")";
  std::map<std::string, TlsPlan> by_host;
  for (auto& t : targets) {
    const std::string host_key = t.name + ":" + std::to_string(t.port) + (t.secure ? "" : "|insecure");
    if (auto it = by_host.find(host_key); it != by_host.end()) {
      t.tls = it->second;
      continue;
    }
    TlsPlan plan = base;
    plan.mx_host = t.name;
    std::string why;  // why DANE does not apply to this host
    boost::system::error_code ec;
    asio::ip::make_address(t.name, ec);
    if (!ec) {
      why = "the next hop is an address, not a name";
    } else if (!t.secure) {
      why = "the MX or address records of " + t.name + " are not DNSSEC-validated";
    } else {
      std::string qname = "_" + std::to_string(t.port) + "._tcp." + (t.expanded.empty() ? t.name : t.expanded);
      dns::Question question{qname, dns::RecordType::tlsa};
      dns::Answer a = co_await resolve(resolver, std::move(question));
      if (!t.expanded.empty() && a.authenticated && (a.status == dns::Status::nodata || a.status == dns::Status::nxdomain)) {
        // RFC 7672 §2.2.2: none at the secure CNAME expansion, so the original name's records count.
        qname = "_" + std::to_string(t.port) + "._tcp." + t.name;
        dns::Question original{qname, dns::RecordType::tlsa};
        a = co_await resolve(resolver, std::move(original));
      } else if (!t.expanded.empty()) {
        plan.tlsa_base = t.expanded;
      }
      plan.report_type = "tlsa";
      if (a.status == dns::Status::servfail || a.status == dns::Status::timeout) {
        plan.refuse = "TLS policy " + level + ": TLSA lookup of " + qname + " failed" +
                      (a.bogus ? " (DNSSEC validation failed)" : "") + ", host not used (RFC 7672 §2.2)";
        // RFC 8460 §4.3.2.1: no valid records came back from the resolver.
        plan.report_failure = "dnssec-invalid";
        plan.report_reason = "TLSA lookup of " + qname + (a.bogus ? ": DNSSEC validation failed (bogus)" : ": SERVFAIL or timeout");
      } else if (!a.authenticated) {
        why = "the TLSA answer for " + qname + " is not DNSSEC-validated";
      } else if (a.status != dns::Status::ok) {
        why = "no TLSA records at " + qname;
      } else {
        tls::TlsaSet set = tls::usable_tlsa(a.tlsa);
        for (const auto& ignored : set.ignored) log::info("dane.tlsa_ignored", {{"name", qname}, {"record", ignored}});
        if (!set.usable.empty()) {
          plan.policy.level = tls::Level::dane;
          plan.policy.origin = "DANE TLSA " + qname + ", " + base.policy.origin;
          plan.report_type = "tlsa";
          for (const auto& r : set.usable) plan.report_policy += tls::tlsa_text(r, 64) + "\n";
          plan.tlsa = std::move(set.usable);
          any = true;
        } else {
          // RFC 8460 tlsa-invalid, with the records as the policy-string; a session still goes out under encrypt.
          for (const auto& r : a.tlsa) plan.report_policy += tls::tlsa_text(r, 64) + "\n";
          plan.report_failure = "tlsa-invalid";
          plan.report_reason = "the TLSA records at " + qname + " are all unusable";
          if (only) {
            plan.refuse = "TLS policy " + level + ": the TLSA records at " + qname + " are all unusable";
          } else {
            // RFC 7672 §2.2: secure but unusable TLSA records still make TLS mandatory.
            plan.policy.level = tls::Level::encrypt;
            plan.policy.origin = "dane: TLSA records at " + qname + " all unusable, " + base.policy.origin;
          }
        }
      }
    }
    if (!why.empty()) {
      plan.report_type = base.report_type;
      if (only) {
        plan.refuse = "TLS policy " + level + ": " + why;
        // RFC 8460 dane-required: DANE is mandatory here and this host has no validated TLSA records.
        plan.report_failure = "dane-required";
        plan.report_reason = why;
      } else {
        plan.policy.level = requiretls ? tls::Level::verify : tls::Level::may;
        plan.policy.origin = "dane not applied: " + why + ", " + base.policy.origin;
      }
    }
    if (plan.refuse.empty() && plan.policy.level != base.policy.level) {
      auto context = contexts.get(plan.policy);
      if (!context) plan.refuse = "TLS policy " + level + " cannot be applied: " + context.error().message;
      else plan.context = *context;
    }
    log::debug("dane.host", {{"host", t.name},
                             {"level", tls::level_name(plan.policy.level)},
                             {"note", plan.refuse.empty() ? plan.policy.origin : plan.refuse}});
    by_host[host_key] = plan;
    t.tls = std::move(plan);
  }
  co_return any;
}

// TLS-RPT (RFC 8460 §4): one new session, or one host refused before any session, under `plan`.
// A failure of the plan itself (found before connecting) is the result, whatever the session did.
void report_tls(const SmtpTransportOptions& options, const queue::DeliveryJob& job, const TlsPlan& plan, const Target& t,
                std::string result, std::string reason, std::string sending_ip) {
  if (!options.tls_report) return;
  if (!plan.report_failure.empty()) {
    reason = result.empty() ? plan.report_reason : plan.report_reason + "; the session: " + reason;
    result = plan.report_failure;
  }
  options.tls_report(tls::TlsRptResult{job.domain, plan.report_type, plan.report_policy, plan.report_mx, std::move(result),
                                       std::move(sending_ip), t.name, t.address, std::move(reason), 1});
}

// RFC 8460 dnssec-invalid: with DANE in use, an MX or address answer that failed validation ("" is the MX lookup).
void report_bogus(const SmtpTransportOptions& options, const queue::DeliveryJob& j, const std::vector<std::string>& names) {
  if (!options.tls_report) return;
  for (const auto& name : names)
    options.tls_report(tls::TlsRptResult{j.domain, "tlsa", "", "", "dnssec-invalid", "", name, "",
                                         "DNSSEC validation of the " + (name.empty() ? "MX records of " + j.domain
                                                                                      : "address records of " + name) +
                                             " failed (bogus)",
                                         1});
}

// MTA-STS (RFC 8461) with its TLS-RPT reporting (RFC 8460): enforce keeps only the listed MX hosts and
// verifies their certificates; testing (§5) checks the same per session and reports it without enforcing;
// a policy published but not obtained is reported (sts-policy-*) on the sessions that go on without it.
// A value is the delivery's result when no host may be used.
awaitable<std::optional<std::vector<RecipientResult>>> apply_mta_sts(const SmtpTransportOptions& options,
                                                                      const queue::DeliveryJob& j, std::vector<Target>& targets,
                                                                      std::optional<TlsPlan>& tls_plan,
                                                                      tls::ClientContextCache& contexts) {
  const std::size_t n = j.recipients.size();
  std::string domain = j.domain;
  tls::StsLookup sts = co_await options.mta_sts->lookup(std::move(domain));
  log::debug("mta_sts.lookup", {{"domain", j.domain}, {"note", sts.note}});
  if (!sts.found) {
    if (sts.failure.empty()) co_return std::nullopt;
    for (auto& t : targets) {
      TlsPlan p = t.tls ? *t.tls : *tls_plan;
      if (!p.refuse.empty()) continue;  // already refused (and reported) for its own reason
      p.report_type = "sts";
      p.report_policy.clear();
      p.report_mx.clear();
      p.report_failure = sts.failure;
      p.report_reason = sts.note;
      t.tls = std::move(p);
    }
    co_return std::nullopt;
  }
  if (sts.policy.mode == tls::StsMode::none) co_return std::nullopt;
  const std::string lines = sts_policy_lines(sts.policy);
  std::string patterns;
  for (const auto& mx : sts.policy.mx) patterns += mx + "\n";
  if (sts.policy.mode == tls::StsMode::enforce) {
    // RFC 8461 §4.2: only MX hosts the policy lists, over TLS verified for the MX name.
    std::vector<Target> listed;
    for (const auto& t : targets)
      if (tls::sts_allows_mx(sts.policy, t.name)) listed.push_back(t);
    if (listed.empty()) {
      // RFC 8460 §4.3: validation-failure, one per MX host address not tried, with the MX named.
      for (const auto& t : targets) {
        TlsPlan refused;
        refused.report_type = "sts";
        refused.report_policy = lines;
        refused.report_mx = patterns;
        refused.report_failure = "validation-failure";
        refused.report_reason = "MX host " + t.name + " is not listed in the MTA-STS policy (enforce)";
        report_tls(options, j, refused, t, {}, {}, {});
      }
      co_return tls_failed(n, "MTA-STS policy of " + j.domain + " (id " + sts.id + ", enforce) lists none of its MX hosts", "");
    }
    targets = std::move(listed);
    tls::ClientPolicy enforced = tls_plan->policy;
    if (!tls::authenticates(enforced.level) || tls::uses_dane(enforced.level)) enforced.level = tls::Level::verify;
    enforced.match_names.clear();
    enforced.origin = "MTA-STS enforce, policy id " + sts.id;
    auto context = contexts.get(enforced);
    if (!context) co_return tls_failed(n, "MTA-STS: " + context.error().message, "");
    TlsPlan plan;
    plan.policy = enforced;
    plan.context = *context;
    plan.report_type = "sts";
    plan.report_policy = lines;
    plan.report_mx = patterns;
    tls_plan = std::move(plan);
    for (auto& t : targets) t.tls.reset();  // the per-host fallbacks of level dane give way to the policy
    co_return std::nullopt;
  }
  log::info("mta_sts.testing", {{"domain", j.domain}, {"id", sts.id}, {"note", "policy in testing mode: checked and reported, not enforced"}});
  for (auto& t : targets) {
    TlsPlan p = t.tls ? *t.tls : *tls_plan;
    if (!p.refuse.empty()) continue;
    if (!tls::requires_tls(p.policy.level)) {
      // Checked as enforce would (verify for the MX name) so that the report says what enforce would meet.
      tls::ClientPolicy checked = p.policy;
      checked.level = tls::Level::verify;
      checked.match_names.clear();
      checked.origin = "MTA-STS testing, policy id " + sts.id + " (checked and reported, not enforced)";
      if (auto context = contexts.get(checked)) {
        p.policy = checked;
        p.context = *context;
        p.testing = true;
      }
    }
    p.report_type = "sts";
    p.report_policy = lines;
    p.report_mx = patterns;
    p.report_failure.clear();
    p.report_reason.clear();
    if (!tls::sts_allows_mx(sts.policy, t.name)) {
      p.report_failure = "validation-failure";
      p.report_reason = "MX host " + t.name + " is not listed in the MTA-STS policy (testing: delivered anyway)";
    }
    t.tls = std::move(p);
  }
  co_return std::nullopt;
}

}  // namespace mailmoat::smtp::delivery_plan
