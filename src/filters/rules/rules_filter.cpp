#include "filters/rules/rules_filter.h"

#include "pipeline/chain.h"
#include "policy/facts.h"
#include "util/strings.h"

namespace mailmoat::filters {

policy::MessageFacts facts_of(const pipeline::MessageContext& ctx, const RulesConfig& config) {
  // Rules see the message as the earlier filters left it: their header edits applied
  // (to a copy made only when there are some).
  std::string effective;
  policy::FactsInput in;
  in.message = ctx.message;
  if (!ctx.edits.headers.empty()) {
    pipeline::Edits headers_only;
    headers_only.headers = ctx.edits.headers;
    effective = pipeline::with_edits(ctx.message, headers_only);
    in.message = effective;
  }
  in.envelope_sender = ctx.envelope.sender;
  for (const auto& r : ctx.envelope.recipients) in.envelope_recipients.push_back(r.address);
  in.client_ip = ctx.connection.client_address;
  in.helo = ctx.connection.helo;
  in.role = ctx.connection.role;
  in.tls = ctx.connection.tls.active;
  in.connector = ctx.connection.tls.connector;
  in.domain_secured = ctx.connection.tls.domain_secured;
  for (const auto& a : ctx.attachments)
    in.attachments.push_back({a.name, a.extension, a.true_type, a.size, a.executable, a.password_protected,
                              a.scan_incomplete, a.verdict, a.text});
  in.scl = ctx.scl;
  in.auth = {ctx.auth.spf, ctx.auth.dkim, ctx.auth.dmarc, ctx.auth.arc, ctx.auth.compauth, ctx.auth.dmarc_policy};
  in.internal_domains = config.internal_domains;
  in.body_limit = config.body_limit;
  return policy::build_facts(in);
}

std::string rule_reason(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += util::ascii_lower(c);
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return "rule:" + out;
}

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// The current value of a header, with the pending edits of earlier filters.
std::string current_header(const pipeline::MessageContext& ctx, const std::string& name) {
  std::string effective = ctx.message;
  pipeline::Edits headers_only;
  headers_only.headers = ctx.edits.headers;
  pipeline::apply_edits(effective, headers_only);
  return pipeline::header_value(effective, name);
}

void add_recipients(pipeline::MessageContext& ctx, const std::vector<std::string>& addresses) {
  for (const auto& a : addresses) {
    bool present = false;
    for (const auto& r : ctx.envelope.recipients) present |= util::iequals(r.address, a);
    if (!present) ctx.envelope.recipients.push_back({a, {}, {}});
  }
}

void add_to_header(pipeline::MessageContext& ctx, const char* name, const std::vector<std::string>& addresses) {
  if (addresses.empty()) return;
  std::string value = current_header(ctx, name);
  for (const auto& a : addresses) value += (value.empty() ? "" : ", ") + a;
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::replace, name, value});
  add_recipients(ctx, addresses);
}

}  // namespace

std::vector<pipeline::TraceNote> explain(const policy::Evaluation& ev) {
  std::vector<pipeline::TraceNote> notes;
  for (const auto& m : ev.matched) {
    std::string detail = "'" + m.rule + "' (priority " + std::to_string(m.priority) + ") because " +
                         join(m.because, "; ") + (m.audit ? "; would have: " : "; actions: ") + join(m.actions, "; ") +
                         (m.stopped ? "; stopped rule processing" : "");
    notes.push_back({"rules", m.audit ? "rule_audit" : "rule_matched", detail});
  }
  for (const auto& n : ev.notes) notes.push_back({"rules", "rule_note", n});
  return notes;
}

pipeline::Verdict apply_decision(const policy::Decision& d, pipeline::MessageContext& ctx, std::int64_t now_unix) {
  using policy::Outcome;
  pipeline::Verdict v;
  v.filter = "rules";
  if (!d.decided_by.empty()) v.reason = "rule '" + d.decided_by + "'";
  switch (d.outcome) {
    case Outcome::reject:
      v.disposition = pipeline::Disposition::reject;
      v.code = 550;
      v.enhanced = d.enhanced;
      v.text = d.text;
      return v;
    case Outcome::tempfail:
      v.disposition = pipeline::Disposition::tempfail;
      v.code = 451;
      v.enhanced = d.enhanced;
      v.text = d.text;
      v.reason += ": a condition could not be evaluated";
      return v;
    case Outcome::discard:
      v.disposition = pipeline::Disposition::discard;
      v.reason = "deleted by " + v.reason;
      return v;
    case Outcome::quarantine:
      v.disposition = pipeline::Disposition::quarantine;
      v.category = "rule";
      break;
    case Outcome::deliver: break;
  }
  if (d.redirect) {
    ctx.envelope.recipients.clear();
    add_recipients(ctx, *d.redirect);
  }
  add_to_header(ctx, "To", d.add_to);
  add_to_header(ctx, "Cc", d.add_cc);
  add_recipients(ctx, d.add_bcc);  // Bcc: envelope only, never visible in the header
  for (const auto& h : d.headers)
    ctx.edits.headers.push_back({h.remove ? pipeline::HeaderEdit::Op::remove : pipeline::HeaderEdit::Op::replace, h.name,
                                 h.value});
  if (!d.subject_prefix.empty())
    ctx.edits.headers.push_back(
        {pipeline::HeaderEdit::Op::replace, "Subject", d.subject_prefix + current_header(ctx, "Subject")});
  if (d.disclaimer) {
    if (ctx.disclaimer) {  // the content pass already asked for one: once per message
      ctx.notes.push_back({"rules", "rule_note",
                           "rule '" + d.disclaimer_by + "': disclaimer not added, rule '" + ctx.disclaimer->rule +
                               "' already adds one (once per message)"});
    } else {
      ctx.disclaimer = pipeline::DisclaimerRequest{d.disclaimer_by, d.disclaimer->text, d.disclaimer->html,
                                                   d.disclaimer->prepend, policy::to_string(d.disclaimer->fallback)};
    }
  }
  if (d.scl) ctx.scl = d.scl;
  if (!d.route.empty()) ctx.delivery.route = d.route;
  ctx.delivery.require_tls |= d.require_tls;
  if (d.hold_minutes > 0) {
    std::int64_t until = now_unix + d.hold_minutes * 60;
    if (until > ctx.delivery.hold_until) {
      ctx.delivery.hold_until = until;
      ctx.delivery.hold_reason = "held for " + std::to_string(d.hold_minutes) + " minutes by rule '" + d.hold_by + "'";
    }
  }
  return v;
}

RulesFilter::RulesFilter(RulesConfig config, std::shared_ptr<const policy::RuleSet> rules, Clock clock,
                         policy::Pass pass)
    : config_(std::move(config)), rules_(std::move(rules)), clock_(std::move(clock)), pass_(pass) {}

void RulesFilter::set_rules(std::shared_ptr<const policy::RuleSet> rules) {
  std::lock_guard lock(mu_);
  rules_ = std::move(rules);
}

std::shared_ptr<const policy::RuleSet> RulesFilter::rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

void RulesFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  auto rules = this->rules();
  bool wanted = false;  // does this pass have a rule to run? (building facts is the main cost)
  if (rules && !(pass_ == policy::Pass::attachments && ctx.rules_stopped))
    for (const auto& r : rules->rules) wanted |= pass_ != policy::Pass::attachments || r.needs_attachments;
  if (!wanted) {
    done(pipeline::Verdict::accept());
    return;
  }
  auto facts = facts_of(ctx, config_);
  const std::int64_t now = clock_();
  auto ev = policy::evaluate(*rules, facts, now, pass_);
  for (auto& n : explain(ev)) ctx.notes.push_back(std::move(n));
  for (const auto& m : ev.matched) {
    if (!m.audit) ctx.verdict_reasons.push_back(rule_reason(m.rule));
    ctx.rules_stopped |= m.stopped;
  }
  // Sent once the message's fate is final: a temporary failure here or in a
  // later filter (SCL verdict, Safe Attachments) brings the message back.
  if (!ev.decision.notices.empty())
    ctx.final_actions.push_back(
        [notices = ev.decision.notices, facts, settings = notify_, now](pipeline::MessageContext& c) {
          for (auto& n : send_notices(notices, facts, c.queue_id, settings, now)) c.notes.push_back(std::move(n));
        });
  auto verdict = apply_decision(ev.decision, ctx, now);
  const auto& d = ev.decision;
  if (ctx.connection.role == "milter" && (!d.route.empty() || d.require_tls || d.hold_minutes > 0))
    ctx.notes.push_back({"rules", "rule_note",
                         "route, require_tls and hold are not applied in milter mode: the MTA delivers the message"});
  done(std::move(verdict));
}

}  // namespace mailmoat::filters
