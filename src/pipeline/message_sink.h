// Where an accepted message goes: the queue. The SMTP and milter front ends
// hand the message over and reply 250 only when `done` reports it durable.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pipeline/filter.h"
#include "util/error.h"

namespace mailmoat::pipeline {

struct Submission {
  std::shared_ptr<MessageContext> context;
  bool hold = false;            // keep in the queue until released (quarantine / hold verdicts)
  std::string hold_reason;
  // Non-empty: the message goes to the quarantine store instead of delivery,
  // through the queue (durable first, stored with retries if the store is down).
  std::string quarantine_reason;  // category: spam, phish, malware, spoof, rule...
  std::string quarantine_policy;  // which filter or rule, and why
};

class MessageSink {
 public:
  using Done = std::move_only_function<void(util::Result<void>)>;
  virtual ~MessageSink() = default;
  virtual std::string next_queue_id() = 0;
  // Stores the message durably (then schedules it) and calls done, on any thread.
  // The sink takes the message bytes: the context's `message` may be left empty.
  virtual void submit(Submission submission, Done done) = 0;
};

}  // namespace mailmoat::pipeline
