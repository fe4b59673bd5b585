// Turns what the gateway does into message-trace events (store::TraceEvent)
// for the trace recorder: a message queued (with what the filters found),
// each delivery attempt, bounces, holds, deletions, and messages refused at
// SMTP time. The recorder never blocks the caller.
#pragma once

#include "pipeline/filter.h"
#include "queue/manager.h"
#include "smtp/protocol/reply.h"
#include "store/recorder/trace_recorder.h"

namespace mailmoat::app {

class GatewayTrace {
 public:
  GatewayTrace(store::TraceRecorder& recorder, std::vector<std::string> local_domains);
  void on_queue_event(const queue::QueueEvent& event);
  void on_refused(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict, const smtp::Reply& reply);

 private:
  store::Direction direction(const std::string& role, const std::string& sender) const;
  store::TraceRecorder& recorder_;
  std::vector<std::string> local_domains_;
};

}  // namespace mailmoat::app
