// Builds the Safe Attachments filter from [attachments] and
// [[attachments.policy]]: the sandbox worker pool (this executable's
// analyze-worker), the threads that wait on it, and clamd when configured.
#pragma once

#include <memory>

#include "app/config.h"
#include "filters/attachments/attachment_filter.h"
#include "http/router.h"
#include "pipeline/chain.h"
#include "queue/manager.h"
#include "util/error.h"

namespace mailmoat::app {

class AttachmentsRuntime {
 public:
  virtual ~AttachmentsRuntime() = default;
  virtual std::shared_ptr<filters::AttachmentFilter> filter() = 0;
  // Holds in the queue (analysis after queueing, resumed here for the holds
  // the spool kept over a restart) and monitor copies, which go through `queue`.
  virtual void connect_queue(queue::QueueManager& queue, const std::string& hostname) = 0;
  // GET /v1/a (Dynamic Delivery's attachment links) when a policy uses dynamic_delivery.
  virtual void add_routes(http::Router& router) = 0;
  // The filters after Safe Attachments in the chain: per-policy copies and
  // dynamic_delivery originals go through them before they are queued.
  // Set once, before the first message.
  virtual void set_tail(std::shared_ptr<pipeline::FilterChain> tail) = 0;
};

// nullptr when [attachments] enabled = false; an error when the YARA rules
// do not compile (it names the file and line).
util::Result<std::unique_ptr<AttachmentsRuntime>> make_attachments(const Config& config);

filters::AttachmentsConfig attachments_config(const Config& config);

}  // namespace mailmoat::app
