#include "filters/auth/auth_filter.h"

#include <algorithm>
#include <mutex>

#include "auth/arc/verifier.h"
#include "auth/authres/authres.h"
#include "auth/authres/methods.h"
#include "auth/dkim/verifier.h"
#include "auth/iprev/iprev.h"
#include "auth/spf/spf.h"
#include "dns/ip_address.h"
#include "mail/address.h"
#include "mail/message.h"
#include "util/strings.h"

namespace mailmoat::filters {

namespace spf = auth::spf;
namespace dkim = auth::dkim;
namespace arc = auth::arc;
namespace dmarc = auth::dmarc;
namespace iprev = auth::iprev;
namespace authres = auth::authres;

int strip_forged_results(std::string& message, const std::string& authserv_id) {
  std::size_t end = message.find("\r\n\r\n");
  std::size_t header_len = end == std::string::npos ? message.size() : end + 2;
  auto stripped = authres::remove_own_results(std::string_view(message).substr(0, header_len), authserv_id);
  if (stripped.removed > 0) message = stripped.header + message.substr(header_len);
  return stripped.removed;
}

namespace {

dmarc::AuthOutcome outcome_of_spf(spf::Verdict v) {
  switch (v) {
    case spf::Verdict::pass: return dmarc::AuthOutcome::pass;
    case spf::Verdict::fail: return dmarc::AuthOutcome::fail;
    case spf::Verdict::softfail: return dmarc::AuthOutcome::softfail;
    case spf::Verdict::neutral: return dmarc::AuthOutcome::neutral;
    case spf::Verdict::temperror: return dmarc::AuthOutcome::temperror;
    case spf::Verdict::permerror: return dmarc::AuthOutcome::permerror;
    case spf::Verdict::none: return dmarc::AuthOutcome::none;
  }
  return dmarc::AuthOutcome::none;
}

dmarc::AuthOutcome outcome_of_dkim(dkim::Result r) {
  switch (r) {
    case dkim::Result::pass: return dmarc::AuthOutcome::pass;
    case dkim::Result::fail: return dmarc::AuthOutcome::fail;
    case dkim::Result::policy: return dmarc::AuthOutcome::policy;
    case dkim::Result::neutral: return dmarc::AuthOutcome::neutral;
    case dkim::Result::temperror: return dmarc::AuthOutcome::temperror;
    case dkim::Result::permerror: return dmarc::AuthOutcome::permerror;
    case dkim::Result::none: return dmarc::AuthOutcome::none;
  }
  return dmarc::AuthOutcome::none;
}

// One message's checks in flight: SPF, iprev, DKIM and ARC run at once; DMARC
// follows when the first four are in. Resolver callbacks may arrive on any thread.
struct Run : std::enable_shared_from_this<Run> {
  const AuthConfig& config;
  dns::Resolver& resolver;
  dmarc::AggregateSink* aggregate;
  pipeline::MessageContext& ctx;
  pipeline::Filter::Done done;
  std::int64_t now;

  std::mutex mu;
  int pending = 0;
  bool evaluating_dmarc = false;
  bool finished = false;  // results written; late answers are ignored
  std::optional<spf::SpfResult> spf_result;
  std::optional<iprev::IprevResult> iprev_result;
  std::vector<dkim::SignatureResult> dkim_results;
  bool dkim_done = false;
  std::optional<arc::ChainResult> arc_result;
  mail::FromDomain from;
  std::optional<dns::IpAddress> ip;

  Run(const AuthConfig& c, dns::Resolver& r, dmarc::AggregateSink* a, pipeline::MessageContext& x,
      pipeline::Filter::Done d, std::int64_t n)
      : config(c), resolver(r), aggregate(a), ctx(x), done(std::move(d)), now(n) {}

  bool allow_listed(const std::string& from_domain) const {
    for (const auto& d : config.dmarc_allow_domains)
      if (util::iequals(from_domain, d) ||
          (from_domain.size() > d.size() && util::iequals(from_domain.substr(from_domain.size() - d.size()), d) &&
           from_domain[from_domain.size() - d.size() - 1] == '.'))
        return true;
    return util::any_contains(config.dmarc_allow_networks, ctx.connection.client_address);
  }
  void start(const mail::Message& message);
  void one_done();
  void expire();
  void finish(std::optional<dmarc::DmarcResult> dm, bool timed_out = false);
};

void Run::start(const mail::Message& message) {
  from = mail::from_domain(message);
  ip = dns::IpAddress::parse(ctx.connection.client_address);
  auto self = shared_from_this();
  // Count every check before starting any: a resolver may answer synchronously.
  pending = 1 + (config.spf && ip) + (config.iprev && ip) + config.dkim + config.arc;
  if (config.spf && ip) {
    auto req = spf::mailfrom_request(*ip, ctx.envelope.sender, ctx.connection.helo);
    req.now = now;
    spf::Options opts;
    opts.receiver = config.authserv_id;
    spf::check_host(resolver, req, opts, [self](spf::SpfResult r) {
      {
        std::lock_guard lock(self->mu);
        if (self->finished) return;
        self->spf_result = std::move(r);
      }
      self->one_done();
    });
  }
  if (config.iprev && ip) {
    iprev::check(resolver, *ip, [self](iprev::IprevResult r) {
      {
        std::lock_guard lock(self->mu);
        if (self->finished) return;
        self->iprev_result = std::move(r);
      }
      self->one_done();
    });
  }
  if (config.dkim) {
    dkim::VerifyOptions opts;
    opts.max_signatures = config.max_dkim_signatures;
    opts.now = now;
    dkim::verify(message, resolver, opts, [self](std::vector<dkim::SignatureResult> r) {
      {
        std::lock_guard lock(self->mu);
        if (self->finished) return;
        self->dkim_results = std::move(r);
        self->dkim_done = true;
      }
      self->one_done();
    });
  }
  if (config.arc) {
    arc::verify_chain(message, resolver, [self](arc::ChainResult r) {
      {
        std::lock_guard lock(self->mu);
        if (self->finished) return;
        self->arc_result = std::move(r);
      }
      self->one_done();
    });
  }
  one_done();  // the count's own 1: checks that answered synchronously are already in
}

void Run::one_done() {
  {
    std::lock_guard lock(mu);
    if (finished || --pending > 0) return;
    evaluating_dmarc = true;
  }
  if (!config.dmarc || from.status != mail::FromStatus::ok) {
    finish(std::nullopt);
    return;
  }
  dmarc::Input in;
  in.from_domain = from.domain;
  if (spf_result) {
    in.spf.domain = spf_result->request.domain;
    in.spf.result = outcome_of_spf(spf_result->verdict);
  }
  for (const auto& d : dkim_results) in.dkim.push_back({d.domain, d.selector, outcome_of_dkim(d.result)});
  if (arc_result && arc_result->cv == arc::ChainValidation::pass && !arc_result->instances.empty()) {
    const auto& newest = arc_result->instances.back();
    for (const auto& t : config.trusted_arc_sealers)
      if (util::iequals(t, newest.seal_domain)) in.trusted_arc = true;
  }
  auto self = shared_from_this();
  dmarc::evaluate(resolver, in, config.dmarc_options, [self, in](dmarc::DmarcResult r) {
    if (r.verdict == dmarc::Verdict::fail && self->allow_listed(r.from_domain))
      dmarc::apply_override(r, dmarc::Override::local_policy);
    if (self->aggregate) self->aggregate->record(dmarc::aggregate_record(r, in, self->ctx.connection.client_address));
    self->finish(std::move(r));
  });
}

// The budget ran out: whatever has not answered is a temporary error.
void Run::expire() {
  {
    std::lock_guard lock(mu);
    if (finished) return;
    if (config.spf && ip && !spf_result) {
      spf::SpfResult r;
      r.verdict = spf::Verdict::temperror;
      r.request = spf::mailfrom_request(*ip, ctx.envelope.sender, ctx.connection.helo);
      r.problem = "DNS did not answer within the time budget";
      spf_result = std::move(r);
    }
  }
  finish(std::nullopt, true);
}

void Run::finish(std::optional<dmarc::DmarcResult> dm, bool timed_out) {
  {
    std::lock_guard lock(mu);
    if (finished) return;
    finished = true;
  }
  authres::AuthenticationResults ar;
  ar.authserv_id = config.authserv_id;
  pipeline::Verdict verdict;
  std::vector<std::string> words;
  if (spf_result) {
    ar.results.push_back(authres::spf_entry(*spf_result));
    words.push_back("spf=" + std::string(spf::to_string(spf_result->verdict)));
  }
  for (const auto& d : dkim_results) {
    ar.results.push_back(authres::signature_entry("dkim", dkim::result_name(d.result), d.domain, d.selector,
                                                  d.header_b.substr(0, 8), d.reason));
    words.push_back("dkim=" + std::string(dkim::result_name(d.result)) + ":" + d.domain);
  }
  if (config.dkim && dkim_results.empty()) {
    authres::MethodResult none;
    none.method = "dkim";
    none.result = dkim_done ? "none" : "temperror";
    none.comment = dkim_done ? "message not signed" : "key lookups did not finish in time";
    ar.results.push_back(none);
  }
  dmarc::Handling handling;
  if (dm) {
    handling = dmarc::decide(*dm, config.handling);
    ar.results.push_back(authres::dmarc_entry(*dm, handling.action_word));
    ar.results.push_back(authres::compauth_entry(*dm));
    words.push_back("dmarc=" + std::string(dmarc::to_string(dm->verdict)) + " action=" + handling.action_word);
  } else if (config.dmarc) {
    authres::MethodResult none;
    none.method = "dmarc";
    none.result = timed_out ? "temperror" : from.status == mail::FromStatus::ok ? "none" : "permerror";
    none.comment = timed_out ? "DNS did not answer within the time budget"
                   : from.status == mail::FromStatus::ok ? "" : from.reason;
    if (timed_out && config.handling.tempfail_on_temperror) {
      handling.action = dmarc::Action::tempfail;
      handling.smtp_reply = "451 4.7.5 DMARC could not be evaluated, try again later";
    }
    ar.results.push_back(none);
    words.push_back("dmarc=" + none.result + (from.reason.empty() ? "" : " (" + from.reason + ")"));
    // RFC 7489 §6.6.1: a message with several From addresses cannot be aligned: treat as a DMARC failure.
    if (!timed_out && (from.status == mail::FromStatus::several_fields || from.status == mail::FromStatus::several_mailboxes)) {
      handling.action = config.handling.on_reject == dmarc::Action::reject ? dmarc::Action::quarantine
                                                                           : config.handling.on_reject;
      handling.spam_confidence_level = config.handling.spam_confidence_level;
    }
  }
  if (arc_result) {
    authres::MethodResult a;
    a.method = "arc";
    a.result = std::string(arc::cv_name(arc_result->cv));
    if (!arc_result->temporary) ctx.arc_cv = a.result;
    a.comment = arc_result->reason;
    if (!arc_result->instances.empty()) {
      const auto& newest = arc_result->instances.back();
      a.properties.push_back({"header", "oldest-pass", std::to_string(arc_result->oldest_pass)});
      a.properties.push_back({"smtp", "remote-ip", ctx.connection.client_address});
      if (!newest.seal_domain.empty()) a.comment = "sealed by " + newest.seal_domain;
    }
    ar.results.push_back(a);
    words.push_back("arc=" + a.result);
  }
  if (iprev_result) {
    ar.results.push_back(authres::iprev_entry(*iprev_result));
    words.push_back("iprev=" + std::string(iprev::to_string(iprev_result->verdict)));
    if (iprev_result->verdict == iprev::Verdict::pass) ctx.connection.client_name = iprev_result->name;
  }
  // The same results as words on the context, for the rules engine.
  for (const auto& m : ar.results) {
    std::string* slot = m.method == "spf" ? &ctx.auth.spf : m.method == "dmarc" ? &ctx.auth.dmarc
                        : m.method == "arc" ? &ctx.auth.arc : m.method == "compauth" ? &ctx.auth.compauth
                        : m.method == "dkim" ? &ctx.auth.dkim : nullptr;
    // Several DKIM signatures: one that passes is what a rule asks about.
    if (slot && (slot->empty() || (m.method == "dkim" && m.result == "pass"))) *slot = m.result;
  }
  if (dm && !dm->policy_domain.empty()) ctx.auth.dmarc_policy = std::string(dmarc::to_string(dm->requested));
  std::string field = authres::write(ar);
  std::string detail;
  for (const auto& w : words) detail += (detail.empty() ? "" : " ") + w;
  ctx.notes.push_back({"auth", "results", detail});

  // Our results go on top of the message as received, forged ones removed.
  std::string top = field + "\r\n";
  if (spf_result) top += spf::received_spf_field(*spf_result, config.authserv_id) + "\r\n";
  ctx.message.insert(0, top);

  switch (handling.action) {
    case dmarc::Action::deliver: break;
    case dmarc::Action::deliver_as_spam:
      ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::replace, config.scl_header,
                                   std::to_string(handling.spam_confidence_level)});
      ctx.scl = std::max(ctx.scl.value_or(0), handling.spam_confidence_level);
      ctx.verdict_reasons.push_back("dmarc-fail");
      break;
    case dmarc::Action::quarantine:
      verdict.disposition = pipeline::Disposition::quarantine;
      verdict.reason = "DMARC policy: " + (dm ? dm->reason : from.reason);
      verdict.category = "spoof";
      break;
    case dmarc::Action::reject:
    case dmarc::Action::tempfail: {
      verdict.disposition =
          handling.action == dmarc::Action::reject ? pipeline::Disposition::reject : pipeline::Disposition::tempfail;
      // "550 5.7.1 text" -> code, enhanced code, text
      auto parts = util::split(handling.smtp_reply, ' ');
      verdict.code = parts.empty() ? 550 : static_cast<int>(util::parse_uint(parts[0]).value_or(550));
      verdict.enhanced = parts.size() > 1 ? std::string(parts[1]) : "5.7.1";
      std::size_t text_at = handling.smtp_reply.find(' ', handling.smtp_reply.find(' ') + 1);
      verdict.text = text_at == std::string::npos ? "DMARC policy" : handling.smtp_reply.substr(text_at + 1);
      verdict.reason = "DMARC: " + (dm ? dm->reason : std::string());
      break;
    }
  }
  verdict.filter = "auth";
  auto d = std::move(done);
  d(std::move(verdict));
}

}  // namespace

AuthFilter::AuthFilter(AuthConfig config, dns::Resolver& resolver, Clock clock, Scheduler scheduler)
    : config_(std::move(config)), resolver_(resolver), clock_(std::move(clock)), scheduler_(std::move(scheduler)) {}

void AuthFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  const int forged = strip_forged_results(ctx.message, config_.authserv_id);
  if (forged > 0)
    ctx.notes.push_back({"auth", "forged_results_removed", std::to_string(forged) + " field(s) with our authserv-id"});
  bool check = false;
  for (const auto& r : config_.check_roles) check |= r == ctx.connection.role;
  if (!check) {
    done(pipeline::Verdict::accept());
    return;
  }
  auto parsed = mail::Message::parse(ctx.message);
  if (!parsed) {
    // An unparsable header section is recorded, not fatal: nothing can be verified.
    ctx.notes.push_back({"auth", "unparsable_message", parsed.error().message});
    authres::AuthenticationResults ar;
    ar.authserv_id = config_.authserv_id;
    authres::MethodResult m;
    m.method = "dkim";
    m.result = "permerror";
    m.comment = "message header could not be parsed";
    ar.results.push_back(m);
    ctx.message.insert(0, authres::write(ar) + "\r\n");
    done(pipeline::Verdict::accept());
    return;
  }
  auto run = std::make_shared<Run>(config_, resolver_, aggregate_, ctx, std::move(done), clock_());
  if (scheduler_) scheduler_(config_.budget, [run] { run->expire(); });
  run->start(*parsed);
}

}  // namespace mailmoat::filters
