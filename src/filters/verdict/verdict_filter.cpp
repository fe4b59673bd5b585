#include "filters/verdict/verdict_filter.h"

#include "pipeline/chain.h"

namespace mailmoat::filters {

std::string action_for(int scl, const VerdictConfig& c) {
  if (scl < 0) return "deliver";
  if (scl >= c.reject_at) return "reject";
  if (scl >= c.quarantine_at) return "quarantine";
  if (scl >= c.mark_at) return "deliver-marked";
  return "deliver";
}

void VerdictFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  using Op = pipeline::HeaderEdit::Op;
  ctx.edits.headers.push_back({Op::remove, config_.scl_header, {}});
  ctx.edits.headers.push_back({Op::remove, config_.verdict_header, {}});
  bool judged = false;
  for (const auto& r : config_.roles) judged |= r == ctx.connection.role;
  if (!judged) {
    done(pipeline::Verdict::accept());
    return;
  }
  const int scl = ctx.scl.value_or(0);
  const std::string action = action_for(scl, config_);
  std::string reasons;
  for (const auto& r : ctx.verdict_reasons) reasons += (reasons.empty() ? "" : ",") + r;
  std::string stamp = action + "; scl=" + std::to_string(scl) + (reasons.empty() ? "" : "; reasons=" + reasons);
  ctx.notes.push_back({"verdict", "scl", stamp});

  pipeline::Verdict v;
  v.filter = "verdict";
  v.reason = "SCL " + std::to_string(scl) + (reasons.empty() ? "" : " (" + reasons + ")");
  if (action == "reject") {
    v.disposition = pipeline::Disposition::reject;
    v.code = 550;
    v.enhanced = "5.7.1";
    v.text = "Message refused as spam";
    done(std::move(v));
    return;
  }
  if (action == "quarantine") {
    v.disposition = pipeline::Disposition::quarantine;
    v.category = "spam";
  }
  if (action == "deliver-marked" && !config_.mark_subject_prefix.empty()) {
    std::string effective = ctx.message;
    pipeline::apply_edits(effective, ctx.edits);
    ctx.edits.headers.push_back(
        {Op::replace, "Subject", config_.mark_subject_prefix + pipeline::header_value(effective, "Subject")});
  }
  ctx.edits.headers.push_back({Op::prepend, config_.verdict_header, stamp});
  ctx.edits.headers.push_back({Op::prepend, config_.scl_header, std::to_string(scl)});
  done(std::move(v));
}

}  // namespace mailmoat::filters
