// The `attachments` filter (issue 9): triage of every attachment, sandboxed
// analysis within the policy's time budget, and the policy's action: off
// (triage lists only), monitor (deliver, record), block (quarantine the
// message), replace (swap each bad attachment for a text part naming it and
// the reason). Runs off the I/O thread through `run`; talks to the sandbox
// and clamd only through the functions it is given, so tests can fake them.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
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
  // Runs blocking work away from the I/O threads.
  std::function<void(std::move_only_function<void()>)> run;
};

class AttachmentFilter : public pipeline::Filter {
 public:
  AttachmentFilter(AttachmentsConfig config, AttachmentServices services);
  std::string name() const override { return "attachments"; }
  void on_message(pipeline::MessageContext& context, Done done) override;
  attachments::VerdictCache& cache() { return cache_; }

 private:
  pipeline::Verdict process(pipeline::MessageContext& ctx, const AttachmentPolicy* policy);

  AttachmentsConfig config_;
  AttachmentServices services_;
  attachments::VerdictCache cache_;
};

}  // namespace mailmoat::filters
