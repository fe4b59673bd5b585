// Safe Attachments' use of the queue (issue 9, docs/attachments.md): a
// message the `block` policy held because its analysis did not finish within
// the fast path is analysed again on the spooled bytes with the policy's whole
// budget, then released for delivery or sent to the quarantine store; holds
// found in the spool at start are resumed the same way. Also builds and
// queues `monitor` copies (the original as a message/rfc822 attachment).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "app/attachments_dynamic.h"
#include "filters/attachments/attachment_filter.h"
#include "pipeline/chain.h"
#include "queue/manager.h"

namespace mailmoat::app {

class AttachmentHolds {
 public:
  using Run = std::function<void(std::move_only_function<void()>)>;
  AttachmentHolds(queue::QueueManager& queue, filters::AttachmentFilter& filter, Run run,
                  std::shared_ptr<DynamicStore> dynamic = nullptr);
  // Queue observer: a hold placed by the filter starts its analysis.
  void on_event(const queue::QueueEvent& e);
  // Starts the analysis of every hold of ours the spool held at start; returns how many.
  std::size_t resume();

 private:
  void analyse(const std::string& id);
  // A dynamic_delivery original: record the outcome for its links, then
  // quarantine it, deliver it in full (deliver_original) or drop it from the queue.
  void finish_dynamic(const std::string& id, const pipeline::MessageContext& ctx, const pipeline::Verdict& v,
                      const std::string& timing);

  queue::QueueManager& queue_;
  filters::AttachmentFilter& filter_;
  Run run_;
  std::shared_ptr<DynamicStore> dynamic_;
  std::mutex mu_;
  std::set<std::string> busy_;
  std::map<std::string, std::chrono::steady_clock::time_point> held_at_;
};

// True for the hold reasons the attachments filter gives (queue hold_reason).
bool is_attachment_hold(const std::string& hold_reason);

// The monitor copy: a new message from `from` to `to` whose first part says why
// and whose second part is the original (message/rfc822).
std::string monitor_copy_message(const std::string& original, const std::string& queue_id, const std::string& from,
                                 const std::string& to, const std::string& reason, std::int64_t unix_now);

// Runs `tail` (the filters after Safe Attachments: second rules pass, SCL
// verdict, disclaimer, signing) over a copy the attachments filter made, and
// waits for it (call off the I/O threads). nullptr: accept, nothing run.
pipeline::Verdict run_tail(const pipeline::FilterChain* tail, pipeline::MessageContext& ctx);

// Spools the dynamic_delivery original of `ctx` held (marked with a header),
// after `tail` ran on it, and returns its queue id once durable, or "" with `error`.
std::string hold_dynamic_original(pipeline::MessageSink& sink, const pipeline::MessageContext& ctx,
                                  const std::string& original, std::string& error,
                                  const pipeline::FilterChain* tail = nullptr);

// Queues a per-policy copy (AttachmentFilter's split) as `verdict` says, after
// `tail` ran on it (a refusal by the tail quarantines the copy: its recipients
// were already accepted).
std::string queue_split_copy(pipeline::MessageSink& sink, const pipeline::MessageContext& copy,
                             const pipeline::Verdict& verdict, const pipeline::FilterChain* tail = nullptr);

// Queues `message` from `from` to `to`; returns "" once it is durable, else the reason.
std::string queue_copy(pipeline::MessageSink& sink, const std::string& from, const std::string& to,
                       std::string message, const std::string& note);

}  // namespace mailmoat::app
