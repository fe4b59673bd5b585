// What an administrator does to quarantined mail: list, show, download,
// release (to all or some recipients) and delete. A release re-injects the
// original message into the queue with a header naming the release, and is
// durable in the queue before the item is marked released, so a crash in
// between can at worst deliver twice, never lose. Every action is audited.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "pipeline/message_sink.h"
#include "queue/manager.h"
#include "store/stores.h"
#include "util/error.h"

namespace mailmoat::app {

struct ReleaseOutcome {
  std::string queue_id;  // of the re-injected message
  std::vector<std::string> recipients;
};

class QuarantineService {
 public:
  using TraceEvents = std::function<void(const queue::QueueEvent&)>;
  QuarantineService(store::QuarantineStore& store, store::AuditLog& audit, pipeline::MessageSink& queue,
                    std::string hostname, TraceEvents trace);

  util::Result<store::Page<store::QuarantineItem>> list(const store::QuarantineQuery& query);
  // The item with its message (raw), or an error; nullopt: no such item.
  util::Result<std::optional<store::QuarantineItem>> get(std::int64_t id);
  util::Result<std::string> download(std::int64_t id, const std::string& actor);
  util::Result<ReleaseOutcome> release(std::int64_t id, const std::string& actor, const std::vector<std::string>& to);
  util::Result<void> remove(std::int64_t id, const std::string& actor);

 private:
  void audit(const std::string& actor, const std::string& action, std::int64_t id, const std::string& detail);
  store::QuarantineStore& store_;
  store::AuditLog& audit_;
  pipeline::MessageSink& queue_;
  std::string hostname_;
  TraceEvents trace_;
};

}  // namespace mailmoat::app
