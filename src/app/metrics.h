// The gateway's Prometheus metrics (text format at /metrics): messages by
// direction and verdict, deliveries by outcome and their latency, queue sizes by
// state, DNS query latency, filter durations, STARTTLS handshakes by side and
// outcome, and the trace recorder's queue depth and spill size. Resolvers and
// filters are measured by wrapping them, so nothing in the pure modules knows
// about metrics; the SMTP server and client report handshakes through callbacks.
#pragma once

#include <memory>
#include <string>

#include "dns/resolver.h"
#include "pipeline/filter.h"
#include "queue/manager.h"
#include "store/recorder/trace_recorder.h"
#include "tls/handshake.h"

namespace mailmoat::app {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(const std::string& version);
  ~GatewayMetrics();

  void on_queue_event(const queue::QueueEvent& event);
  void on_refused(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict);
  void on_http_request(const std::string& path);
  // `side`: "inbound" (our SMTP listeners' STARTTLS) or "outbound" (delivery).
  void on_tls_handshake(const char* side, const tls::HandshakeOutcome& outcome);

  // The same resolver, with each query's latency observed by record type.
  std::unique_ptr<dns::Resolver> measure(dns::Resolver& inner);
  // The same filter, with the time to its verdict observed under its name.
  std::shared_ptr<pipeline::Filter> measure(std::shared_ptr<pipeline::Filter> inner);

  // Samples the gauges (queue, recorder, uptime) and renders the text format.
  std::string scrape(const queue::QueueManager& queue, const store::TraceRecorder& recorder, double uptime_seconds);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailmoat::app
