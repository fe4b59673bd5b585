// One evaluation of transport rules against one message, without sending
// anything: shared by `mailmoat rules test` and POST /api/v1/rules/test so the
// CLI and the API give the same answer (which rules matched and why, the
// actions, header edits, the final SCL and outcome).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/config.h"
#include "pipeline/filter.h"
#include "policy/evaluator.h"

namespace mailmoat::app {

struct RulesTestOutcome {
  pipeline::MessageContext ctx;  // with the notes and header edits the rules made
  policy::Evaluation evaluation;
  pipeline::Verdict verdict;
  std::string smtp_reply;  // for reject and defer
  std::string attachments_note;  // what is known about the attachments ("" when none)
};

// The context `mailmoat rules test` builds from its options.
pipeline::MessageContext rules_test_context(const std::string& role, const std::string& ip, const std::string& helo,
                                            bool tls, const std::string& mail_from,
                                            const std::vector<std::string>& rcpts, std::string message);
// Runs the rules (and, when they accept, the SCL verdict) on ctx.
RulesTestOutcome run_rules_test(const policy::RuleSet& rules, const Config& cfg, pipeline::MessageContext ctx);
// The `mailmoat rules test --json` object.
nlohmann::json rules_test_json(const RulesTestOutcome& outcome);
const char* disposition_name(pipeline::Disposition d);

}  // namespace mailmoat::app
