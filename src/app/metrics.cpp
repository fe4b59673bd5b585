#include "app/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <map>
#include <set>
#include <mutex>

namespace mailmoat::app {

namespace {

using Clock = std::chrono::steady_clock;

const prometheus::Histogram::BucketBoundaries kFastBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const prometheus::Histogram::BucketBoundaries kDeliveryBuckets{0.05, 0.1, 0.25, 0.5,  1,    2.5,   5,    10,
                                                               30,   60,  300,  900,  3600, 14400, 86400};

std::string direction_of(const std::string& role, bool is_dsn) {
  if (is_dsn) return "outbound";
  if (role == "inbound") return "inbound";
  if (role == "relay" || role == "submission") return "outbound";
  return role.empty() ? "unknown" : role;  // release, milter
}

const char* type_name(dns::RecordType t) {
  switch (t) {
    case dns::RecordType::a: return "A";
    case dns::RecordType::aaaa: return "AAAA";
    case dns::RecordType::mx: return "MX";
    case dns::RecordType::txt: return "TXT";
    case dns::RecordType::ptr: return "PTR";
    case dns::RecordType::tlsa: return "TLSA";
  }
  return "other";
}

class MeasuredResolver : public dns::Resolver {
 public:
  MeasuredResolver(dns::Resolver& inner, prometheus::Family<prometheus::Histogram>& family)
      : inner_(inner), family_(family) {}
  void resolve(dns::Question question, Callback done) override {
    auto& h = family_.Add({{"type", type_name(question.type)}}, kFastBuckets);
    inner_.resolve(std::move(question), [&h, start = Clock::now(), done = std::move(done)](dns::Answer a) mutable {
      h.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      done(std::move(a));
    });
  }

 private:
  dns::Resolver& inner_;
  prometheus::Family<prometheus::Histogram>& family_;
};

class MeasuredFilter : public pipeline::Filter {
 public:
  MeasuredFilter(std::shared_ptr<pipeline::Filter> inner, prometheus::Histogram& histogram)
      : inner_(std::move(inner)), histogram_(histogram) {}
  std::string name() const override { return inner_->name(); }
  void on_message(pipeline::MessageContext& context, Done done) override {
    inner_->on_message(context, [this, start = Clock::now(), done = std::move(done)](pipeline::Verdict v) mutable {
      histogram_.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      done(std::move(v));
    });
  }

 private:
  std::shared_ptr<pipeline::Filter> inner_;
  prometheus::Histogram& histogram_;
};

}  // namespace

struct GatewayMetrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& http_requests =
      prometheus::BuildCounter().Name("mailmoat_http_requests_total").Help("HTTP requests answered").Register(*registry);
  prometheus::Gauge& uptime =
      prometheus::BuildGauge().Name("mailmoat_uptime_seconds").Help("Seconds since the gateway started").Register(*registry).Add({});
  prometheus::Family<prometheus::Gauge>& build_info =
      prometheus::BuildGauge().Name("mailmoat_build_info").Help("Build information; the value is always 1").Register(*registry);
  prometheus::Family<prometheus::Counter>& messages =
      prometheus::BuildCounter()
          .Name("mailmoat_messages_total")
          .Help("Messages received, by direction and verdict (accepted, quarantined, held, rejected, tempfailed)")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& deliveries =
      prometheus::BuildCounter()
          .Name("mailmoat_delivery_attempts_total")
          .Help("Delivery attempts per recipient, by outcome (delivered, deferred, failed, expired, quarantined)")
          .Register(*registry);
  prometheus::Histogram& delivery_latency =
      prometheus::BuildHistogram()
          .Name("mailmoat_delivery_latency_seconds")
          .Help("Time from acceptance to successful delivery, per recipient")
          .Register(*registry)
          .Add({}, kDeliveryBuckets);
  prometheus::Family<prometheus::Gauge>& queue_messages =
      prometheus::BuildGauge().Name("mailmoat_queue_messages").Help("Messages in the queue, by state (active, deferred, held)").Register(*registry);
  prometheus::Family<prometheus::Histogram>& dns_latency =
      prometheus::BuildHistogram().Name("mailmoat_dns_query_seconds").Help("DNS query latency, by record type").Register(*registry);
  prometheus::Family<prometheus::Histogram>& filter_duration =
      prometheus::BuildHistogram().Name("mailmoat_filter_seconds").Help("Time each filter took to its verdict").Register(*registry);
  prometheus::Family<prometheus::Counter>& tls_handshakes =
      prometheus::BuildCounter()
          .Name("mailmoat_tls_handshakes_total")
          .Help("SMTP STARTTLS handshakes, by side (inbound, outbound), outcome (ok, failed), protocol version "
                "(ok) and reason (failed: timeout, closed, not_tls, protocol_version, negotiation, certificate, "
                "dane, policy, other)")
          .Register(*registry);
  prometheus::Family<prometheus::Gauge>& trace_queue =
      prometheus::BuildGauge().Name("mailmoat_trace_queue_events").Help("Trace events waiting in memory for the store").Register(*registry);
  prometheus::Family<prometheus::Gauge>& trace_spill =
      prometheus::BuildGauge().Name("mailmoat_trace_spill_bytes").Help("Trace events spilled to disk, not yet in the store (bytes)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& trace_store_down =
      prometheus::BuildGauge().Name("mailmoat_trace_store_down").Help("1 while the trace store refuses writes").Register(*registry);
  prometheus::Family<prometheus::Counter>& trace_written =
      prometheus::BuildCounter().Name("mailmoat_trace_events_written_total").Help("Trace events committed to the store").Register(*registry);
  prometheus::Family<prometheus::Counter>& trace_lost =
      prometheus::BuildCounter().Name("mailmoat_trace_events_lost_total").Help("Trace events neither stored nor spilled").Register(*registry);

  std::mutex mu;
  std::map<std::string, std::chrono::system_clock::time_point> accepted_at;  // queue id -> acceptance
  std::uint64_t last_written = 0, last_lost = 0;
};

GatewayMetrics::GatewayMetrics(const std::string& version) : impl_(std::make_unique<Impl>()) {
  impl_->build_info.Add({{"version", version}}).Set(1);
}

GatewayMetrics::~GatewayMetrics() = default;

void GatewayMetrics::on_http_request(const std::string& path) { impl_->http_requests.Add({{"path", path}}).Increment(); }

void GatewayMetrics::on_tls_handshake(const char* side, const tls::HandshakeOutcome& outcome) {
  // Only the fixed sets reach the labels: a peer cannot mint new series.
  std::string version = outcome.version;
  if (version != "TLSv1.3" && version != "TLSv1.2" && version != "TLSv1.1" && version != "TLSv1") version = "other";
  if (outcome.ok)
    impl_->tls_handshakes.Add({{"side", side}, {"outcome", "ok"}, {"version", version}, {"reason", "none"}}).Increment();
  else
    impl_->tls_handshakes.Add({{"side", side}, {"outcome", "failed"}, {"version", "none"}, {"reason", outcome.reason}})
        .Increment();
}

void GatewayMetrics::on_queue_event(const queue::QueueEvent& e) {
  if ((e.type == "queued" || e.type == "held") && e.message) {
    const auto& m = *e.message;
    std::string verdict = e.type == "held" ? "held" : m.quarantine_reason.empty() ? "accepted" : "quarantined";
    impl_->messages.Add({{"direction", direction_of(m.role, m.is_dsn)}, {"verdict", verdict}}).Increment();
    std::lock_guard lock(impl_->mu);
    impl_->accepted_at[e.queue_id] = std::chrono::system_clock::from_time_t(static_cast<std::time_t>(m.received_at));
    return;
  }
  if (e.type == "delivered" || e.type == "deferred" || e.type == "failed" || e.type == "expired" ||
      e.type == "quarantined") {
    impl_->deliveries.Add({{"outcome", e.type}}).Increment();
    if (e.type != "delivered") return;
    std::lock_guard lock(impl_->mu);
    auto it = impl_->accepted_at.find(e.queue_id);
    if (it != impl_->accepted_at.end())
      impl_->delivery_latency.Observe(std::chrono::duration<double>(std::chrono::system_clock::now() - it->second).count());
  }
  if (e.type == "deleted") {
    std::lock_guard lock(impl_->mu);
    impl_->accepted_at.erase(e.queue_id);
  }
}

void GatewayMetrics::on_refused(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict) {
  const char* v = verdict.disposition == pipeline::Disposition::tempfail ? "tempfailed"
                  : verdict.disposition == pipeline::Disposition::discard ? "discarded"
                                                                           : "rejected";
  impl_->messages.Add({{"direction", direction_of(ctx.connection.role, false)}, {"verdict", v}}).Increment();
}

std::unique_ptr<dns::Resolver> GatewayMetrics::measure(dns::Resolver& inner) {
  return std::make_unique<MeasuredResolver>(inner, impl_->dns_latency);
}

std::shared_ptr<pipeline::Filter> GatewayMetrics::measure(std::shared_ptr<pipeline::Filter> inner) {
  auto& h = impl_->filter_duration.Add({{"filter", inner->name()}}, kFastBuckets);
  return std::make_shared<MeasuredFilter>(std::move(inner), h);
}

std::string GatewayMetrics::scrape(const queue::QueueManager& queue, const store::TraceRecorder& recorder,
                                   double uptime_seconds) {
  impl_->uptime.Set(uptime_seconds);
  double active = 0, deferred = 0, held = 0;
  std::set<std::string> present;
  for (const auto& m : queue.list()) {
    present.insert(m.id);
    bool retried = false;
    for (const auto& r : m.recipients) retried |= r.status == queue::RecipientStatus::pending && r.attempts > 0;
    (m.held ? held : retried ? deferred : active) += 1;
  }
  impl_->queue_messages.Add({{"state", "active"}}).Set(active);
  impl_->queue_messages.Add({{"state", "deferred"}}).Set(deferred);
  impl_->queue_messages.Add({{"state", "held"}}).Set(held);
  {
    // Forget acceptance times of messages that left the queue.
    std::lock_guard lock(impl_->mu);
    for (auto it = impl_->accepted_at.begin(); it != impl_->accepted_at.end();)
      it = present.count(it->first) ? std::next(it) : impl_->accepted_at.erase(it);
  }
  auto stats = recorder.stats();
  impl_->trace_queue.Add({}).Set(static_cast<double>(stats.queued));
  impl_->trace_spill.Add({}).Set(static_cast<double>(stats.spill_bytes));
  impl_->trace_store_down.Add({}).Set(stats.store_down ? 1 : 0);
  {
    std::lock_guard lock(impl_->mu);
    impl_->trace_written.Add({}).Increment(static_cast<double>(stats.written - std::min(stats.written, impl_->last_written)));
    impl_->trace_lost.Add({}).Increment(static_cast<double>(stats.lost - std::min(stats.lost, impl_->last_lost)));
    impl_->last_written = stats.written;
    impl_->last_lost = stats.lost;
  }
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

}  // namespace mailmoat::app
