// The `attachments` filter (issue 9): triage of every attachment, sandboxed
// analysis, and the policy's action: off (triage lists only), monitor
// (deliver, record, optionally copy malicious mail to an address), block
// (quarantine the message; analysis that does not finish within the fast
// path at end of data goes on with the message held in the queue, see
// `analyse_held`), replace (swap each bad attachment for a text part naming
// it and the reason), dynamic_delivery (deliver at once with each attachment
// still under analysis replaced by a placeholder linking to it; the original
// is held in the queue and analysed there). Runs off the I/O thread through `run`; talks to the
// sandbox, clamd and the queue only through the functions it is given.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "attachments/analyze.h"
#include "attachments/triage.h"
#include "filters/attachments/policy.h"
#include "pipeline/filter.h"

namespace mailmoat::filters {

struct AttachmentServices {
  // Sandboxed static analysis; must return within `deadline`.
  std::function<attachments::Analysis(const attachments::AnalysisRequest&, std::chrono::milliseconds deadline)> analyze;
  // Antivirus (clamd INSTREAM); empty when not configured.
  std::function<attachments::Analysis(std::string_view content, std::chrono::milliseconds deadline)> antivirus;
  // Dynamic sandbox (CAPE) for files static analysis finds suspicious; empty when off.
  std::function<attachments::Analysis(std::string_view name, std::string_view content, std::chrono::milliseconds budget)>
      dynamic_sandbox;
  // Runs blocking work away from the I/O threads.
  std::function<void(std::move_only_function<void()>)> run;
  // monitor's copy_to: queues a copy of the message (as an attachment) to
  // `to`; returns once it is durable, or the reason it is not.
  std::function<std::string(const pipeline::MessageContext&, const std::string& to, const std::string& reason)> copy;
  // dynamic_delivery: spools `original` held (analysis continues on it) and
  // returns its queue id once durable, or "" with `error` set.
  std::function<std::string(const pipeline::MessageContext&, const std::string& original, std::string& error)> hold_original;
  // Per-recipient policies: a fresh queue id, and queueing a copy of the
  // message for a recipient group as its verdict says (accept, hold,
  // quarantine); returns "" once durable, else the reason.
  std::function<std::string()> new_queue_id;
  std::function<std::string(const pipeline::MessageContext&, const pipeline::Verdict&)> queue_split;
  // dynamic_delivery: the signed link to leaf part `part` of held message `id`.
  std::function<std::string(const std::string& id, std::size_t part)> attachment_link;
};

// Where a message's analysis happens: at end of data (may hold the message
// when the fast path runs out), or later on the message held in the queue.
enum class AnalysisPhase { end_of_data, held };

// The hold reason the filter's hold verdict starts with (queue hold_reason is
// "attachments: " + this), by which the gateway finds its own holds.
inline constexpr std::string_view kPendingReason = "analysis pending";

class AttachmentFilter : public pipeline::Filter {
 public:
  AttachmentFilter(AttachmentsConfig config, AttachmentServices services);
  std::string name() const override { return "attachments"; }
  void on_message(pipeline::MessageContext& context, Done done) override;
  attachments::VerdictCache& cache() { return cache_; }
  // The analysis of a message held in the queue: the policy's whole budget,
  // never a hold again; blocking (call off the I/O threads).
  pipeline::Verdict analyse_held(pipeline::MessageContext& context);
  const AttachmentPolicy* policy_for(const pipeline::Envelope& envelope) const {
    return select_policy(config_.policies, envelope);
  }

 private:
  enum class Outcome { pass, bad, error, timeout, pending };
  pipeline::Verdict process(pipeline::MessageContext& ctx, const AttachmentPolicy* policy, AnalysisPhase phase);
  pipeline::Verdict split_by_policy(pipeline::MessageContext& ctx);
  std::vector<Outcome> analyse_each(pipeline::MessageContext& ctx, attachments::TriageResult& t, bool analyse,
                                    std::chrono::milliseconds limit, bool may_hold, AnalysisPhase phase);
  std::optional<pipeline::Verdict> dynamic(pipeline::MessageContext& ctx, const attachments::TriageResult& t,
                                           const std::vector<Outcome>& outcomes, const std::string& summary);
  void monitor_copy(pipeline::MessageContext& ctx, const AttachmentPolicy& policy, const attachments::AttachmentFacts& f);
  pipeline::Verdict replace(pipeline::MessageContext& ctx, const attachments::TriageResult& t,
                            const std::vector<Outcome>& outcomes, const std::function<bool(Outcome)>& blocking,
                            const std::string& summary);

  AttachmentsConfig config_;
  AttachmentServices services_;
  attachments::VerdictCache cache_;
};

}  // namespace mailmoat::filters
