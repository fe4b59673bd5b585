// The trace recorder between the SMTP path and the TraceStore. record() never
// waits on the store: it appends to a bounded in-memory queue, and when the
// queue is full it moves the oldest 512 queued events to the spill file (one
// write(), no fsync). One writer thread drains the spill file (oldest) and then the
// queue into the store in batches, one transaction each (a short batch waits up
// to `linger` for company). When the store fails,
// the queue goes to the spill file (fsync per batch) and the writer retries
// with back-off; order is kept because the spill file only ever holds events
// older than the queue, and sequence numbers drop duplicates of batches that
// were written while also being spilled.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/recorder/spill_file.h"
#include "store/stores.h"

namespace mailmoat::store {

struct RecorderOptions {
  std::string spill_path;  // usually <data_dir>/trace-spill.log
  std::size_t queue_capacity = 20000;
  std::size_t batch_size = 1000;
  std::chrono::milliseconds retry_initial{100};
  std::chrono::milliseconds retry_max{5000};
  // How long the writer waits for a short batch to fill before it commits
  // it: one transaction for many messages instead of one per event. Events
  // reach the store (and the trace search) at most this much later, and a
  // crash loses at most this much of the trace (never mail). At 20 ms a
  // milter-paced flow (~150 msg/s) committed ~3 messages per transaction and
  // the writer cost ~0.19 ms of CPU per message; at 250 ms, 0.075 ms.
  std::chrono::milliseconds linger{250};
};

struct RecorderStats {
  std::size_t queued = 0;           // events in memory
  std::uint64_t spill_bytes = 0;    // not yet replayed
  std::uint64_t written = 0;        // events committed to the store
  std::uint64_t spilled = 0;        // events that went through the spill file
  std::uint64_t store_failures = 0;
  std::uint64_t lost = 0;           // events neither stored nor spilled (spill file write failed)
  bool store_down = false;
};

class TraceRecorder {
 public:
  // Opens the spill file (replaying what a previous run left there) and starts the writer.
  static util::Result<std::unique_ptr<TraceRecorder>> start(TraceStore& store, RecorderOptions options);
  // Writes what it can to the store, spills the rest, and stops the writer.
  ~TraceRecorder();

  void record(TraceEvent event) noexcept;
  // Waits until every event recorded so far is in the store; false on timeout.
  bool wait_idle(std::chrono::milliseconds timeout);
  RecorderStats stats() const;

 private:
  struct Pending {
    std::uint64_t seq;
    TraceEvent event;
  };
  TraceRecorder(TraceStore& store, RecorderOptions options) : store_(store), opt_(std::move(options)) {}
  void run();
  static constexpr std::size_t kSpillChunk = 512;
  void spill_queue_locked();  // moves mem_ to the spill file; caller holds mu_
  void spill_front_locked(std::size_t n);  // moves the oldest n
  util::Result<void> replay_spill_once();  // an error is the store's
  util::Result<void> write_queue_once();   // an error is the store's
  void store_failed_locked(const std::string& reason);
  void sync_spill(std::unique_lock<std::mutex>& lock);
  void drain_at_stop(std::unique_lock<std::mutex>& lock);
  bool idle_locked() const { return mem_.empty() && spill_read_ >= spill_.end() && !in_flight_; }

  TraceStore& store_;
  RecorderOptions opt_;
  recorder::SpillFile spill_;

  mutable std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<Pending> mem_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t spill_read_ = 0;  // offset of the next record to replay
  bool unsynced_ = false;
  bool in_flight_ = false;
  bool writer_waiting_ = false;  // the writer sleeps on wake_ and must be woken
  bool stop_ = false;
  bool store_down_ = false;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point retry_at_{};
  RecorderStats stats_;
  std::uint64_t committed_seq_ = 0;  // highest sequence number in the store
  std::thread writer_;
};

}  // namespace mailmoat::store
