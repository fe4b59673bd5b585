#include "filters/attachments/attachment_filter.h"

#include <algorithm>

#include "attachments/analyzers/analyzers.h"
#include "attachments/digest.h"
#include "attachments/mime_parts.h"
#include "pipeline/chain.h"
#include "util/strings.h"

namespace mailmoat::filters {
namespace {

using attachments::Analysis;
using attachments::AttachmentFacts;
using attachments::Verdict;
using Clock = std::chrono::steady_clock;

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::int64_t ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

bool is_timeout(const Analysis& a) {
  return std::any_of(a.reasons.begin(), a.reasons.end(), [](const std::string& r) {
    return r.find("analysis exceeded") != std::string::npos || r.find("time budget") != std::string::npos;
  });
}


pipeline::AttachmentFact to_fact(const AttachmentFacts& f) {
  return pipeline::AttachmentFact{f.name,      f.extension, f.declared_type, f.true_type,
                                  f.size,      f.sha256,    f.executable,    f.analysis.password_protected,
                                  f.analysis.scan_incomplete, std::string(attachments::to_string(f.analysis.verdict)),
                                  f.analysis.reasons,  f.analysis.text};
}

std::string trace_detail(const AttachmentFacts& f, std::int64_t duration_ms, bool pending = false) {
  std::string verdict = pending ? "pending" : std::string(attachments::to_string(f.analysis.verdict));
  std::string reasons = pending ? "analysis continues with the message held in the queue" : join(f.analysis.reasons, "; ");
  return "name=\"" + f.name + "\" declared_type=" + f.declared_type + " true_type=" + f.true_type +
         " size=" + std::to_string(f.size) + " sha256=" + f.sha256 + " analyzers=" + join(f.analysis.analyzers, ",") +
         " verdict=" + verdict + " reasons=\"" + reasons + "\" duration_ms=" + std::to_string(duration_ms);
}

std::string label(const AttachmentFacts& f) { return f.name.empty() ? "(unnamed " + f.true_type + ")" : f.name; }

std::string first_reason(const AttachmentFacts& f) {
  if (!f.analysis.primary.empty()) return f.analysis.primary;
  return f.analysis.reasons.empty() ? std::string(attachments::to_string(f.analysis.verdict)) : f.analysis.reasons.front();
}

}  // namespace

AttachmentFilter::AttachmentFilter(AttachmentsConfig config, AttachmentServices services)
    : config_(std::move(config)), services_(std::move(services)), cache_(config_.cache_entries) {
  std::stable_sort(config_.policies.begin(), config_.policies.end(),
                   [](const AttachmentPolicy& a, const AttachmentPolicy& b) { return a.priority < b.priority; });
}

void AttachmentFilter::on_message(pipeline::MessageContext& context, Done done) {
  // A message without attachments (most mail) skips the hop to the analysis
  // threads and the MIME walk.
  if (attachments::surely_without_attachments(context.message)) {
    done(pipeline::Verdict::accept());
    return;
  }
  auto work = [this, &context, done = std::move(done)]() mutable { done(split_by_policy(context)); };
  if (services_.run) services_.run(std::move(work));
  else work();
}

// Recipients whose policies differ get copies of their own, each handled by
// its policy, so one copy is never delivered two ways. The first recipient's
// group stays on this message. Milter mode cannot fork the MTA's message: there
// the matching policy with the lowest priority number applies to all.
pipeline::Verdict AttachmentFilter::split_by_policy(pipeline::MessageContext& ctx) {
  std::vector<std::pair<const AttachmentPolicy*, std::vector<pipeline::EnvelopeRecipient>>> groups;
  for (const auto& r : ctx.envelope.recipients) {
    pipeline::Envelope one;
    one.recipients.push_back(r);
    const AttachmentPolicy* p = select_policy(config_.policies, one);
    auto it = std::find_if(groups.begin(), groups.end(), [p](const auto& g) { return g.first == p; });
    if (it == groups.end()) groups.push_back({p, {r}});
    else it->second.push_back(r);
  }
  const bool can_split = services_.queue_split && services_.new_queue_id && ctx.connection.role != "milter";
  if (groups.size() <= 1 || !can_split)
    return process(ctx, select_policy(config_.policies, ctx.envelope), AnalysisPhase::end_of_data);
  for (std::size_t g = 1; g < groups.size(); ++g) {
    pipeline::MessageContext copy = ctx;
    copy.queue_id = services_.new_queue_id();
    copy.envelope.recipients = groups[g].second;
    pipeline::apply_edits(copy.message, copy.edits);
    copy.edits.headers.clear();
    copy.edits.body.reset();
    copy.notes.push_back({"attachments", "split", "copy of " + ctx.queue_id + " for the recipients of policy " +
                                                      (groups[g].first ? groups[g].first->name : "(none)")});
    pipeline::Verdict v = process(copy, groups[g].first, AnalysisPhase::end_of_data);
    if (std::string error = services_.queue_split(copy, v); !error.empty()) {
      pipeline::Verdict fail;
      fail.disposition = pipeline::Disposition::tempfail;
      fail.filter = "attachments";
      fail.reason = "cannot queue the copy for policy " + (groups[g].first ? groups[g].first->name : "(none)") + ": " + error;
      return fail;
    }
    std::string names;
    for (const auto& r : groups[g].second) names += (names.empty() ? "" : ",") + r.address;
    ctx.notes.push_back({"attachments", "split", "recipients " + names + " (policy " +
                                                     (groups[g].first ? groups[g].first->name : "(none)") +
                                                     ") go as message " + copy.queue_id});
  }
  ctx.envelope.recipients = groups[0].second;
  return process(ctx, groups[0].first, AnalysisPhase::end_of_data);
}

pipeline::Verdict AttachmentFilter::analyse_held(pipeline::MessageContext& context) {
  return process(context, select_policy(config_.policies, context.envelope), AnalysisPhase::held);
}

// Analyses every attachment not decided by triage within `limit`; with
// `may_hold`, one that does not finish in time is `pending` (analysed again,
// with the whole budget, once the message is held) rather than a timeout.
std::vector<AttachmentFilter::Outcome> AttachmentFilter::analyse_each(pipeline::MessageContext& ctx,
                                                                      attachments::TriageResult& t, bool analyse,
                                                                      std::chrono::milliseconds limit, bool may_hold,
                                                                      AnalysisPhase phase) {
  const auto start = Clock::now();
  std::vector<std::string> passwords = analyse ? attachments::passwords_in_text(t.message_text) : std::vector<std::string>{};
  std::vector<Outcome> outcomes;
  for (std::size_t i = 0; i < t.attachments.size(); ++i) {
    AttachmentFacts& f = t.attachments[i];
    const auto began = Clock::now();
    bool pending = false;
    if (!f.decided && analyse) {
      auto left = limit - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      if (left.count() <= 0) {
        pending = may_hold;
        f.analysis.scan_incomplete = true;
        f.analysis.flag(Verdict::scan_error, "scan incomplete: time budget of " + std::to_string(limit.count()) + " ms spent");
      } else {
        Analysis deep = services_.analyze({f.name, t.contents[i], passwords, config_.limits, false}, left);
        if (services_.antivirus && deep.verdict != Verdict::scan_error) deep.merge(services_.antivirus(t.contents[i], left));
        pending = may_hold && deep.verdict == Verdict::scan_error && is_timeout(deep);
        // Suspicious to the static analyzers: the dynamic sandbox decides, after
        // queueing only (its budget is minutes). Not cached before it ran.
        Analysis combined = f.analysis;  // name checks ran in triage
        combined.merge(deep);
        const bool dynamic = services_.dynamic_sandbox && combined.verdict == Verdict::suspicious;
        if (dynamic && may_hold) pending = true;
        if (dynamic && phase == AnalysisPhase::held)
          deep.merge(services_.dynamic_sandbox(f.name, t.contents[i], config_.dynamic_budget));
        // An archive opened with a password from this message is not a
        // property of the content alone: it is not cached.
        if (!deep.password_protected && !(dynamic && phase != AnalysisPhase::held)) cache_.store(f.sha256, deep);
        f.analysis.merge(deep);
      }
    }
    if (t.truncated) f.analysis.scan_incomplete = true;
    // A pending attachment's facts from triage are known; its verdict is "pending"
    // for the rules that run before the message is held (docs/decisions.md).
    ctx.attachments.push_back(to_fact(f));
    if (pending) {
      ctx.attachments.back().verdict = "pending";
      ctx.attachments.back().reasons = {"analysis continues with the message held in the queue"};
    }
    ctx.notes.push_back({"attachments", "attachment", trace_detail(f, ms_since(began), pending)});
    // Triage lists and banned types decide under every policy, "off" included.
    const Analysis& a = f.analysis;
    bool listed = f.decided && a.verdict == Verdict::malicious;
    Outcome o = Outcome::pass;
    if (pending) o = Outcome::pending;
    else if (listed || (analyse && (a.verdict == Verdict::malicious || (a.verdict == Verdict::suspicious && config_.block_suspicious))))
      o = Outcome::bad;
    else if (analyse && a.verdict == Verdict::scan_error)
      o = is_timeout(a) ? Outcome::timeout : Outcome::error;
    outcomes.push_back(o);
  }
  return outcomes;
}

pipeline::Verdict AttachmentFilter::process(pipeline::MessageContext& ctx, const AttachmentPolicy* policy,
                                            AnalysisPhase phase) {
  const auto start = Clock::now();
  attachments::TriageResult t = attachments::triage(ctx.message, config_.triage, &cache_);
  if (t.attachments.empty()) return pipeline::Verdict::accept();
  const AttachmentAction action = policy ? policy->action : AttachmentAction::off;
  const bool internal = ctx.connection.role == "relay" || ctx.connection.role == "submission";
  const bool analyse = action != AttachmentAction::off && services_.analyze && (!internal || policy->analyze_internal);
  const auto budget = policy ? policy->budget : std::chrono::milliseconds(0);
  // block and dynamic_delivery hold; replace must rewrite the message before it is spooled.
  const bool may_hold = phase == AnalysisPhase::end_of_data &&
                        (action == AttachmentAction::block || action == AttachmentAction::dynamic_delivery) && analyse &&
                        config_.fast_path < budget;
  std::vector<Outcome> outcomes = analyse_each(ctx, t, analyse, may_hold ? config_.fast_path : budget, may_hold, phase);

  auto counts = [&](Outcome o) { return std::count(outcomes.begin(), outcomes.end(), o); };
  const bool block_timeout = policy && policy->block_on_timeout, block_error = policy && policy->block_on_error;
  auto blocking = [&](Outcome o) {
    return o == Outcome::bad || (o == Outcome::timeout && block_timeout) || (o == Outcome::error && block_error);
  };
  std::string summary = "policy=" + std::string(policy ? policy->name : "(none)") + " action=" +
                        std::string(to_string(action)) + " attachments=" + std::to_string(outcomes.size()) +
                        " bad=" + std::to_string(counts(Outcome::bad)) + " errors=" + std::to_string(counts(Outcome::error)) +
                        " timeouts=" + std::to_string(counts(Outcome::timeout)) + " duration_ms=" + std::to_string(ms_since(start));
  if (may_hold && counts(Outcome::pending) == 0)
    summary += " hold=none (analysis finished within the fast path of " + std::to_string(config_.fast_path.count()) + " ms)";
  std::size_t first_blocking = outcomes.size();
  for (std::size_t i = 0; i < outcomes.size() && first_blocking == outcomes.size(); ++i)
    if (blocking(outcomes[i])) first_blocking = i;
  if (first_blocking == outcomes.size() && counts(Outcome::pending) > 0) {
    if (action == AttachmentAction::dynamic_delivery)
      if (auto delivered = dynamic(ctx, t, outcomes, summary)) return *delivered;
    pipeline::Verdict v;
    v.disposition = pipeline::Disposition::hold;
    v.filter = "attachments";
    v.reason = std::string(kPendingReason) + " (policy " + policy->name + ", " + std::to_string(counts(Outcome::pending)) +
               " of " + std::to_string(outcomes.size()) + " attachments not finished within the fast path of " +
               std::to_string(config_.fast_path.count()) + " ms)";
    ctx.notes.push_back({"attachments", "held", summary + " pending=" + std::to_string(counts(Outcome::pending)) +
                                                    " outcome=held (analysis continues in the queue)"});
    return v;
  }
  bool monitor_only = action == AttachmentAction::monitor &&
                      !(first_blocking < outcomes.size() && t.attachments[first_blocking].decided);
  if (first_blocking == outcomes.size() || monitor_only) {
    const bool flagged = monitor_only && first_blocking < outcomes.size();
    ctx.notes.push_back({"attachments", flagged ? "monitor" : "pass",
                         summary + (flagged ? " outcome=delivered (monitor)" : " outcome=delivered")});
    if (flagged && !policy->copy_to.empty() && services_.copy) monitor_copy(ctx, *policy, t.attachments[first_blocking]);
    return pipeline::Verdict::accept();
  }
  if (action == AttachmentAction::replace) return replace(ctx, t, outcomes, blocking, summary);
  const auto& f = t.attachments[first_blocking];
  pipeline::Verdict v;
  v.disposition = pipeline::Disposition::quarantine;
  v.filter = "attachments";
  v.category = "malware";
  v.reason = "attachment \"" + label(f) + "\": " + std::string(attachments::to_string(f.analysis.verdict)) + " (" +
             first_reason(f) + ")";
  ctx.notes.push_back({"attachments", "quarantine", summary + " outcome=quarantined"});
  return v;
}

// Delivers the body now: each pending attachment becomes a placeholder part
// that links to it; the original (with earlier filters' edits) is held in the
// queue, analysed there, and the link serves the attachment once it is clean.
std::optional<pipeline::Verdict> AttachmentFilter::dynamic(pipeline::MessageContext& ctx,
                                                           const attachments::TriageResult& t,
                                                           const std::vector<Outcome>& outcomes,
                                                           const std::string& summary) {
  if (!services_.hold_original || !services_.attachment_link) return std::nullopt;
  std::string original = ctx.message;
  pipeline::apply_edits(original, ctx.edits);
  std::string error;
  std::string original_id = services_.hold_original(ctx, original, error);
  if (original_id.empty()) {
    ctx.notes.push_back({"attachments", "dynamic_error", "the original could not be held (" + error +
                                                             "): the whole message is held instead"});
    return std::nullopt;
  }
  ctx.message = std::move(original);
  ctx.edits.headers.clear();
  ctx.edits.body.reset();
  auto walk = attachments::walk_mime(ctx.message);
  std::vector<attachments::PartReplacement> replacements;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i] != Outcome::pending) continue;
    const auto& f = t.attachments[i];
    for (const auto& part : walk.parts)
      if (attachments::sha256_hex(part.content) == f.sha256)
        replacements.push_back(
            {part.leaf_index, "mailmoat Safe Attachments is scanning the attachment \"" + label(f) + "\" (" +
                                  std::to_string(f.size) + " bytes).\r\nIt is being scanned; once it is proven safe "
                                  "you can download it here:\r\n\r\n" +
                                  services_.attachment_link(original_id, part.leaf_index) + "\r\n"});
  }
  ctx.message = attachments::replace_parts(ctx.message, replacements);
  ctx.notes.push_back({"attachments", "dynamic",
                       summary + " placeholders=" + std::to_string(replacements.size()) + " original=" + original_id +
                           " outcome=delivered (dynamic delivery; the original is held while analysis runs)"});
  return pipeline::Verdict::accept();
}

void AttachmentFilter::monitor_copy(pipeline::MessageContext& ctx, const AttachmentPolicy& policy,
                                    const attachments::AttachmentFacts& f) {
  std::string reason = "attachment \"" + label(f) + "\": " + std::string(attachments::to_string(f.analysis.verdict)) +
                       " (" + first_reason(f) + ")";
  std::string error = services_.copy(ctx, policy.copy_to, reason);
  ctx.notes.push_back({"attachments", "monitor_copy",
                       error.empty() ? "copy queued to " + policy.copy_to : "copy to " + policy.copy_to + " failed: " + error});
}

pipeline::Verdict AttachmentFilter::replace(pipeline::MessageContext& ctx, const attachments::TriageResult& t,
                                            const std::vector<Outcome>& outcomes,
                                            const std::function<bool(Outcome)>& blocking, const std::string& summary) {
  // Apply what earlier filters asked for first (docs: cross-filter edits),
  // then find the parts to replace by their SHA-256 in the final bytes.
  pipeline::apply_edits(ctx.message, ctx.edits);
  ctx.edits.headers.clear();
  ctx.edits.body.reset();
  auto walk = attachments::walk_mime(ctx.message);
  std::vector<attachments::PartReplacement> replacements;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (!blocking(outcomes[i])) continue;
    const auto& f = t.attachments[i];
    for (const auto& part : walk.parts)
      if (attachments::sha256_hex(part.content) == f.sha256)
        replacements.push_back({part.leaf_index, "mailmoat Safe Attachments removed the attachment \"" + label(f) +
                                                     "\" (" + std::string(attachments::to_string(f.analysis.verdict)) +
                                                     ": " + first_reason(f) + ").\r\nAsk your administrator if you need it.\r\n"});
  }
  ctx.message = attachments::replace_parts(ctx.message, replacements);
  ctx.notes.push_back({"attachments", "replaced", summary + " replaced=" + std::to_string(replacements.size()) + " outcome=delivered"});
  return pipeline::Verdict::accept();
}

}  // namespace mailmoat::filters
