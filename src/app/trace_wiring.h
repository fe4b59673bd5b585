// Turns what the gateway does into message-trace events (store::TraceEvent)
// for the trace recorder: a message queued (with what the filters found),
// each delivery attempt, bounces, holds, deletions, and messages refused at
// SMTP time. The recorder never blocks the caller.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "auth/dmarc/dmarc.h"
#include "pipeline/filter.h"
#include "queue/manager.h"
#include "smtp/protocol/reply.h"
#include "store/recorder/trace_recorder.h"
#include "store/stores.h"

namespace mailmoat::app {

class GatewayTrace {
 public:
  GatewayTrace(store::TraceRecorder& recorder, std::vector<std::string> local_domains);
  void on_queue_event(const queue::QueueEvent& event);
  void on_refused(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict, const smtp::Reply& reply);
  // A message seen in milter mode: the MTA queues it, so the record carries the
  // MTA's queue id beside mailmoat's and what the MTA was told.
  void on_milter_message(const pipeline::MessageContext& ctx, const pipeline::Verdict& verdict,
                         const std::string& summary);

 private:
  store::Direction direction(const std::string& role, const std::string& sender) const;
  void record_notes(const std::string& id, store::Micros at, const std::vector<pipeline::TraceNote>& notes);
  store::TraceRecorder& recorder_;
  std::vector<std::string> local_domains_;
};

// Keeps what DMARC aggregate reports need (RFC 9990: one row per day, source,
// identifiers and outcome) in the DmarcStore. Rows are counted in memory and
// written on their own thread at most `linger` after the first of a batch, one
// upsert per distinct row (the count summed), so the SMTP path never waits on
// the database and a busy gateway does not write once per message. A crash
// loses at most that window's counts; a clean stop writes them.
class DmarcAggregateRecorder : public auth::dmarc::AggregateSink {
 public:
  explicit DmarcAggregateRecorder(store::DmarcStore& store,
                                  std::chrono::milliseconds linger = std::chrono::milliseconds(100))
      : store_(store), linger_(linger) {}
  ~DmarcAggregateRecorder() override;
  DmarcAggregateRecorder(const DmarcAggregateRecorder&) = delete;
  DmarcAggregateRecorder& operator=(const DmarcAggregateRecorder&) = delete;
  void record(const auth::dmarc::AggregateRecord& r) override;

 private:
  void flush_after_linger();
  void write(const std::map<std::string, store::DmarcRow>& rows);

  store::DmarcStore& store_;
  std::chrono::milliseconds linger_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  std::map<std::string, store::DmarcRow> pending_;  // by the row's identity (every column but count)
  bool flush_posted_ = false;
  bool stopping_ = false;
  boost::asio::thread_pool pool_{1};  // last: joined first
};

}  // namespace mailmoat::app
