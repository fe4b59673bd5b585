#include "app/rules_test.h"

#include <chrono>

#include "app/attachments_setup.h"
#include "app/rules_setup.h"
#include "attachments/triage.h"
#include "filters/rules/disclaimer.h"
#include "filters/rules/rules_filter.h"
#include "filters/verdict/verdict_filter.h"

namespace mailmoat::app {

const char* disposition_name(pipeline::Disposition d) {
  switch (d) {
    case pipeline::Disposition::accept: return "deliver";
    case pipeline::Disposition::reject: return "reject";
    case pipeline::Disposition::tempfail: return "defer";
    case pipeline::Disposition::quarantine: return "quarantine";
    case pipeline::Disposition::hold: return "hold";
    case pipeline::Disposition::discard: return "delete";
  }
  return "?";
}

pipeline::MessageContext rules_test_context(const std::string& role, const std::string& ip, const std::string& helo,
                                            bool tls, const std::string& mail_from,
                                            const std::vector<std::string>& rcpts, std::string message) {
  pipeline::MessageContext ctx;
  ctx.connection.role = role;
  ctx.connection.client_address = ip;
  ctx.connection.helo = helo;
  ctx.connection.tls.active = tls;
  ctx.envelope.sender = mail_from;
  for (const auto& r : rcpts) ctx.envelope.recipients.push_back({r, {}, {}});
  ctx.message = std::move(message);
  return ctx;
}

namespace {

// The attachment facts triage finds (names, true types, sizes, executables, the
// configured hash and type lists), as the gateway computes them at end of data.
// No sandbox analysis runs here: what only it knows is left unknown, and said so.
void add_triage_facts(pipeline::MessageContext& ctx, const Config& cfg) {
  auto triaged = attachments::triage(ctx.message, attachments_config(cfg).triage, nullptr);
  for (const auto& f : triaged.attachments) {
    pipeline::AttachmentFact a;
    a.name = f.name;
    a.extension = f.extension;
    a.declared_type = f.declared_type;
    a.true_type = f.true_type;
    a.size = f.size;
    a.sha256 = f.sha256;
    a.executable = f.executable;
    a.verdict = f.decided ? std::string(attachments::to_string(f.analysis.verdict)) : "pending";
    a.reasons = f.analysis.reasons;
    ctx.attachments.push_back(std::move(a));
  }
}

}  // namespace

RulesTestOutcome run_rules_test(const policy::RuleSet& rules, const Config& cfg, pipeline::MessageContext ctx) {
  RulesTestOutcome out;
  if (ctx.attachments.empty()) add_triage_facts(ctx, cfg);
  if (!ctx.attachments.empty())
    out.attachments_note = std::to_string(ctx.attachments.size()) +
                           " attachment(s): triage facts only (name, extension, true type, size, executable, "
                           "hash and type lists); no sandbox analysis here, so a verdict not settled by triage is "
                           "'pending' and content text and password protection are unknown";
  auto facts = filters::facts_of(ctx, rules_config(cfg));
  auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  out.evaluation = policy::evaluate(rules, facts, now);
  for (auto& n : filters::explain(out.evaluation)) ctx.notes.push_back(std::move(n));
  for (const auto& m : out.evaluation.matched)
    if (!m.audit) ctx.verdict_reasons.push_back(filters::rule_reason(m.rule));
  out.verdict = filters::apply_decision(out.evaluation.decision, ctx, now);
  if (out.verdict.disposition == pipeline::Disposition::accept) {
    filters::VerdictFilter vf(verdict_config(cfg));
    vf.on_message(ctx, [&out](pipeline::Verdict v) { out.verdict = std::move(v); });
  }
  // A disclaimer is tried on the message as the gateway would (its fallback included); the notes say how it went.
  if (out.verdict.disposition == pipeline::Disposition::accept && ctx.disclaimer) {
    // On a copy: the filter folds the header edits into the message, and they are listed separately.
    pipeline::MessageContext trial = ctx;
    filters::DisclaimerFilter df;
    df.on_message(trial, [&out](pipeline::Verdict v) { out.verdict = std::move(v); });
    for (auto& n : trial.notes)
      if (n.filter == "disclaimer") ctx.notes.push_back(std::move(n));
  }
  if (out.verdict.disposition == pipeline::Disposition::reject ||
      out.verdict.disposition == pipeline::Disposition::tempfail)
    out.smtp_reply = std::to_string(out.verdict.code) + " " + out.verdict.enhanced + " " + out.verdict.text;
  out.ctx = std::move(ctx);
  return out;
}

nlohmann::json rules_test_json(const RulesTestOutcome& o) {
  std::vector<std::string> recipients;
  recipients.reserve(o.ctx.envelope.recipients.size());
  for (const auto& r : o.ctx.envelope.recipients) recipients.push_back(r.address);
  nlohmann::json j;
  j["outcome"] = disposition_name(o.verdict.disposition);
  if (!o.verdict.reason.empty()) j["reason"] = o.verdict.reason;
  if (!o.smtp_reply.empty()) j["smtp_reply"] = o.smtp_reply;
  j["scl"] = o.ctx.scl.value_or(0);
  j["recipients"] = recipients;
  j["matched"] = nlohmann::json::array();
  for (const auto& m : o.evaluation.matched)
    j["matched"].push_back({{"rule", m.rule}, {"priority", m.priority}, {"mode", m.audit ? "audit" : "enforce"},
                            {"because", m.because}, {"actions", m.actions}, {"stopped", m.stopped}});
  j["notes"] = o.evaluation.notes;
  if (!o.attachments_note.empty()) j["attachments"] = o.attachments_note;
  for (const auto& n : o.ctx.notes)
    if (n.filter == "disclaimer") j["disclaimer"].push_back({{"event", n.event}, {"detail", n.detail}});
  if (!o.ctx.delivery.route.empty()) j["route"] = o.ctx.delivery.route;
  if (o.ctx.delivery.require_tls) j["require_tls"] = true;
  if (o.ctx.delivery.hold_until) j["hold_until"] = o.ctx.delivery.hold_until;
  j["header_edits"] = nlohmann::json::array();
  for (const auto& e : o.ctx.edits.headers)
    j["header_edits"].push_back({{"op", e.op == pipeline::HeaderEdit::Op::remove ? "remove" : "set"}, {"name", e.name},
                                 {"value", e.value}});
  return j;
}

}  // namespace mailmoat::app
