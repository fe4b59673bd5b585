#include "filters/attachments/attachment_filter.h"

#include <algorithm>

#include "attachments/analyzers/analyzers.h"
#include "attachments/digest.h"
#include "attachments/mime_parts.h"
#include "pipeline/chain.h"

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

// What the policy makes of one attachment's outcome.
enum class Outcome { pass, bad, error, timeout };

Outcome outcome(const AttachmentFacts& f, bool block_suspicious) {
  const Analysis& a = f.analysis;
  if (a.verdict == Verdict::malicious) return Outcome::bad;
  if (a.verdict == Verdict::suspicious && block_suspicious) return Outcome::bad;
  if (a.verdict == Verdict::scan_error) return is_timeout(a) ? Outcome::timeout : Outcome::error;
  return Outcome::pass;
}

pipeline::AttachmentFact to_fact(const AttachmentFacts& f) {
  return pipeline::AttachmentFact{f.name,      f.extension, f.declared_type, f.true_type,
                                  f.size,      f.sha256,    f.executable,    f.analysis.password_protected,
                                  f.analysis.scan_incomplete, std::string(attachments::to_string(f.analysis.verdict)),
                                  f.analysis.reasons};
}

std::string trace_detail(const AttachmentFacts& f, std::int64_t duration_ms) {
  return "name=\"" + f.name + "\" declared_type=" + f.declared_type + " true_type=" + f.true_type +
         " size=" + std::to_string(f.size) + " sha256=" + f.sha256 + " analyzers=" + join(f.analysis.analyzers, ",") +
         " verdict=" + std::string(attachments::to_string(f.analysis.verdict)) + " reasons=\"" +
         join(f.analysis.reasons, "; ") + "\" duration_ms=" + std::to_string(duration_ms);
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
  const AttachmentPolicy* policy = select_policy(config_.policies, context.envelope);
  auto work = [this, &context, policy, done = std::move(done)]() mutable { done(process(context, policy)); };
  if (services_.run) services_.run(std::move(work));
  else work();
}

pipeline::Verdict AttachmentFilter::process(pipeline::MessageContext& ctx, const AttachmentPolicy* policy) {
  const auto start = Clock::now();
  attachments::TriageResult t = attachments::triage(ctx.message, config_.triage, &cache_);
  if (t.attachments.empty()) return pipeline::Verdict::accept();
  const AttachmentAction action = policy ? policy->action : AttachmentAction::off;
  const bool internal = ctx.connection.role == "relay" || ctx.connection.role == "submission";
  const bool analyse = action != AttachmentAction::off && services_.analyze && (!internal || policy->analyze_internal);
  std::vector<std::string> passwords = analyse ? attachments::passwords_in_text(t.message_text) : std::vector<std::string>{};
  const auto budget = policy ? policy->budget : std::chrono::milliseconds(0);

  std::vector<Outcome> outcomes;
  for (std::size_t i = 0; i < t.attachments.size(); ++i) {
    AttachmentFacts& f = t.attachments[i];
    const auto began = Clock::now();
    if (!f.decided && analyse) {
      auto left = budget - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
      if (left.count() <= 0) {
        f.analysis.scan_incomplete = true;
        f.analysis.flag(Verdict::scan_error, "scan incomplete: time budget of " + std::to_string(budget.count()) + " ms spent");
      } else {
        Analysis deep = services_.analyze({f.name, t.contents[i], passwords, config_.limits, false}, left);
        if (services_.antivirus && deep.verdict != Verdict::scan_error) deep.merge(services_.antivirus(t.contents[i], left));
        // An archive opened with a password from this message is not a
        // property of the content alone: it is not cached.
        if (!deep.password_protected) cache_.store(f.sha256, deep);
        f.analysis.merge(deep);
      }
    }
    if (t.truncated) f.analysis.scan_incomplete = true;
    ctx.attachments.push_back(to_fact(f));
    ctx.notes.push_back({"attachments", "attachment", trace_detail(f, ms_since(began))});
    // Triage lists and banned types decide under every policy, "off" included.
    bool listed = f.decided && f.analysis.verdict == Verdict::malicious;
    outcomes.push_back(listed ? Outcome::bad : analyse ? outcome(f, config_.block_suspicious) : Outcome::pass);
  }

  auto counts = [&](Outcome o) { return std::count(outcomes.begin(), outcomes.end(), o); };
  const bool block_timeout = policy && policy->block_on_timeout, block_error = policy && policy->block_on_error;
  auto blocking = [&](Outcome o) {
    return o == Outcome::bad || (o == Outcome::timeout && block_timeout) || (o == Outcome::error && block_error);
  };
  std::string summary = "policy=" + std::string(policy ? policy->name : "(none)") + " action=" +
                        std::string(to_string(action)) + " attachments=" + std::to_string(outcomes.size()) +
                        " bad=" + std::to_string(counts(Outcome::bad)) + " errors=" + std::to_string(counts(Outcome::error)) +
                        " timeouts=" + std::to_string(counts(Outcome::timeout)) + " duration_ms=" + std::to_string(ms_since(start));
  std::size_t first_blocking = outcomes.size();
  for (std::size_t i = 0; i < outcomes.size() && first_blocking == outcomes.size(); ++i)
    if (blocking(outcomes[i])) first_blocking = i;
  bool monitor_only = action == AttachmentAction::monitor &&
                      !(first_blocking < outcomes.size() && t.attachments[first_blocking].decided);
  if (first_blocking == outcomes.size() || monitor_only) {
    ctx.notes.push_back({"attachments", monitor_only && first_blocking < outcomes.size() ? "monitor" : "pass",
                         summary + (monitor_only && first_blocking < outcomes.size() ? " outcome=delivered (monitor)" : " outcome=delivered")});
    return pipeline::Verdict::accept();
  }
  if (action == AttachmentAction::replace) {
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

}  // namespace mailmoat::filters
