// Safe Attachments policies (issue 9), chosen per message by recipient like
// EOP's: the policy with the lowest priority number that matches any
// recipient (by address, or domain, "*" for all) applies to the whole
// message, so one copy is never delivered two ways.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "attachments/analyze.h"
#include "attachments/triage.h"
#include "pipeline/filter.h"

namespace mailmoat::filters {

enum class AttachmentAction { off, monitor, block, replace, dynamic_delivery };

struct AttachmentPolicy {
  std::string name = "default";
  int priority = 100;
  std::vector<std::string> recipient_domains{"*"};  // lower case
  std::vector<std::string> recipients;              // lower-case addresses
  AttachmentAction action = AttachmentAction::block;
  std::chrono::milliseconds budget{2000};  // analysis time for the whole message
  bool block_on_timeout = true;            // on_timeout = "block" (else "deliver")
  bool block_on_error = true;              // on_error = "block" (else "deliver")
  bool analyze_internal = false;           // mail from relay/submission listeners
  std::string copy_to;                     // monitor: where copies of malicious mail go ("" none)
  bool deliver_original = false;           // dynamic_delivery: deliver the original once proven clean
};

struct AttachmentsConfig {
  attachments::TriageConfig triage;
  attachments::ArchiveLimits limits;
  bool block_suspicious = true;  // block_at = "suspicious" (else only "malicious")
  std::size_t cache_entries = 10000;
  std::vector<AttachmentPolicy> policies;
  // block: analysis that finishes within this at end of data needs no hold;
  // otherwise the message is held in the queue while analysis goes on.
  std::chrono::milliseconds fast_path{300};
  // Time the dynamic sandbox (CAPE) gets per file, after queueing.
  std::chrono::milliseconds dynamic_budget{300000};
};

std::string_view to_string(AttachmentAction a);

// The applicable policy, or nullptr when none matches.
const AttachmentPolicy* select_policy(const std::vector<AttachmentPolicy>& policies,
                                      const pipeline::Envelope& envelope);

}  // namespace mailmoat::filters
