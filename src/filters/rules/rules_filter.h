// The `rules` filter: builds one policy::MessageFacts per message (pending
// header edits of earlier filters, e.g. Authentication-Results, included),
// runs the active transport rule set and turns its decision into a verdict,
// envelope changes and header edits. Every rule that matched, why, and what
// it did (or, in audit mode, would have done) goes to the trace as a note.
// The rule set is swapped atomically on reload; messages in flight keep the
// set they started with.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "filters/rules/notify.h"
#include "pipeline/filter.h"
#include "policy/evaluator.h"
#include "policy/rules.h"

namespace mailmoat::filters {

struct RulesConfig {
  std::vector<std::string> internal_domains;  // lower case: the accepted domains
  std::size_t body_limit = std::size_t{64} * 1024;         // decoded text scanned by body conditions
};

// Facts for the rules engine from a pipeline context (shared with `mailmoat rules test`).
policy::MessageFacts facts_of(const pipeline::MessageContext& ctx, const RulesConfig& config);

// Applies a decision to the context: envelope changes, header edits, SCL and
// reason codes; returns the verdict for the chain.
// `now_unix` dates a timed hold.
pipeline::Verdict apply_decision(const policy::Decision& decision, pipeline::MessageContext& ctx,
                                 std::int64_t now_unix);

// The reason code of a rule in X-Mailmoat-Verdict: "rule:" and its name in lower-case words joined by '-'.
std::string rule_reason(const std::string& rule_name);

// Trace notes for an evaluation.
std::vector<pipeline::TraceNote> explain(const policy::Evaluation& evaluation);

class RulesFilter : public pipeline::Filter {
 public:
  using Clock = std::function<std::int64_t()>;  // unix seconds
  // `pass`: content (before Safe Attachments: rules without attachment
  // conditions) or attachments (after it: only rules with them).
  RulesFilter(RulesConfig config, std::shared_ptr<const policy::RuleSet> rules, Clock clock,
              policy::Pass pass = policy::Pass::content);
  std::string name() const override { return pass_ == policy::Pass::attachments ? "rules-attachments" : "rules"; }
  void on_message(pipeline::MessageContext& context, Done done) override;

  void set_rules(std::shared_ptr<const policy::RuleSet> rules);
  // Where `notify` actions queue their messages; set once before mail flows.
  void set_notify(NotifySettings settings) { notify_ = std::move(settings); }
  std::shared_ptr<const policy::RuleSet> rules() const;

 private:
  RulesConfig config_;
  mutable std::mutex mu_;
  std::shared_ptr<const policy::RuleSet> rules_;
  Clock clock_;
  policy::Pass pass_;
  NotifySettings notify_;
};

}  // namespace mailmoat::filters
