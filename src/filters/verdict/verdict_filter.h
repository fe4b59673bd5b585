// The `verdict` filter: maps the spam confidence level (SCL, -1..9 as in
// Exchange) that checks and rules set on the context to an action by the
// configured thresholds (deliver / deliver marked / quarantine / reject), and
// stamps the SCL and the reason codes into two headers whose names are
// configurable, after removing every incoming copy of them (a sender must not
// be able to pre-label its own mail). It runs after the rules and before
// signing, so the stamps are covered by our DKIM signature and ARC seal.
#pragma once

#include <string>
#include <vector>

#include "pipeline/filter.h"

namespace mailmoat::filters {

struct VerdictConfig {
  std::string scl_header = "X-Mailmoat-SCL";
  std::string verdict_header = "X-Mailmoat-Verdict";
  // Thresholds: an SCL at or above each applies it; 10 never applies. SCL -1 always delivers.
  int mark_at = 5, quarantine_at = 7, reject_at = 10;
  std::string mark_subject_prefix;  // prepended to the Subject of marked mail; "" leaves it alone
  // Roles whose mail is judged and stamped; on other roles incoming stamps are only removed.
  std::vector<std::string> roles{"inbound"};
};

// What a level means under `config`: deliver, deliver-marked, quarantine or reject.
std::string action_for(int scl, const VerdictConfig& config);

class VerdictFilter : public pipeline::Filter {
 public:
  explicit VerdictFilter(VerdictConfig config) : config_(std::move(config)) {}
  std::string name() const override { return "verdict"; }
  void on_message(pipeline::MessageContext& context, Done done) override;

 private:
  VerdictConfig config_;
};

}  // namespace mailmoat::filters
