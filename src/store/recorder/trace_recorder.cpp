#include "store/recorder/trace_recorder.h"

#include <algorithm>
#include <vector>

#include "log/log.h"

namespace mailmoat::store {

util::Result<std::unique_ptr<TraceRecorder>> TraceRecorder::start(TraceStore& store, RecorderOptions options) {
  if (options.spill_path.empty()) return util::fail("trace recorder: no spill file path");
  options.queue_capacity = std::max<std::size_t>(options.queue_capacity, 1);
  options.batch_size = std::max<std::size_t>(options.batch_size, 1);
  std::unique_ptr<TraceRecorder> r(new TraceRecorder(store, std::move(options)));
  if (auto o = r->spill_.open(r->opt_.spill_path); !o) return std::unexpected(o.error());
  r->spill_read_ = r->spill_.start_position();
  r->next_seq_ = r->spill_.max_seq() + 1;
  r->writer_ = std::thread([p = r.get()] { p->run(); });
  return r;
}

TraceRecorder::~TraceRecorder() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void TraceRecorder::record(TraceEvent event) noexcept {
  std::lock_guard lock(mu_);
  if (mem_.size() >= opt_.queue_capacity) {
    // Full: the oldest events go to the tail of the spill file. The file only
    // ever holds events older than the queue, so order is kept, and moving a
    // chunk (not the whole queue) bounds the time this call takes.
    spill_front_locked(std::min(mem_.size(), kSpillChunk));
  }
  mem_.push_back(Pending{next_seq_++, std::move(event)});
  // Wake the writer only when it sleeps with nothing to do or a full batch
  // waits: not one futex call per event.
  if (writer_waiting_ && (mem_.size() == 1 || mem_.size() >= opt_.batch_size)) wake_.notify_one();
}

void TraceRecorder::spill_queue_locked() { spill_front_locked(mem_.size()); }

void TraceRecorder::spill_front_locked(std::size_t n) {
  if (n == 0) return;
  std::string buf;
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (mem_[i].seq <= committed_seq_) continue;
    recorder::encode_record(buf, mem_[i].seq, mem_[i].event);
    ++count;
  }
  if (auto a = spill_.append(buf); !a) {
    // Nowhere left to put them: count the loss loudly rather than block mail.
    stats_.lost += count;
    log::error("trace_spill_failed", {{"error", a.error().message}, {"events", count}});
  } else {
    stats_.spilled += count;
    unsynced_ = true;
  }
  mem_.erase(mem_.begin(), mem_.begin() + static_cast<std::ptrdiff_t>(n));
}

bool TraceRecorder::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [&] { return idle_locked(); });
}

RecorderStats TraceRecorder::stats() const {
  std::lock_guard lock(mu_);
  RecorderStats s = stats_;
  s.queued = mem_.size();
  s.spill_bytes = spill_.end() > spill_read_ ? spill_.end() - spill_read_ : 0;
  s.store_down = store_down_;
  return s;
}

void TraceRecorder::store_failed_locked(const std::string& reason) {
  if (!store_down_) log::warn("trace_store_down", {{"error", reason}});
  store_down_ = true;
  ++stats_.store_failures;
  backoff_ = std::clamp(backoff_ * 2, opt_.retry_initial, opt_.retry_max);
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
  // While the store is down the queue is kept on disk, not only in memory.
  spill_queue_locked();
}

void TraceRecorder::sync_spill(std::unique_lock<std::mutex>& lock) {
  // fdatasync takes milliseconds: never under the lock record() needs.
  if (!unsynced_) return;
  unsynced_ = false;
  lock.unlock();
  bool ok = spill_.sync().has_value();
  lock.lock();
  if (!ok) unsynced_ = true;
}

util::Result<void> TraceRecorder::replay_spill_once() {
  std::uint64_t from, end, committed;
  {
    // No fsync here: overflow spilled while the store is up is as durable as
    // the memory queue it relieves; the store-down path syncs every batch.
    std::lock_guard lock(mu_);
    from = spill_read_;
    end = spill_.end();
    committed = committed_seq_;
    in_flight_ = true;
  }
  std::uint64_t next = from;
  auto recs = spill_.read(from, end, opt_.batch_size, next);
  std::vector<TraceEvent> batch;
  std::uint64_t max_seq = committed;
  if (recs) {
    for (auto& r : *recs) {
      if (r.seq <= committed) continue;  // written from the queue before it was spilled
      max_seq = std::max(max_seq, r.seq);
      batch.push_back(std::move(r.event));
    }
  }
  util::Result<void> written;
  if (!batch.empty()) written = store_.append(batch);
  std::uint64_t position;
  {
    std::lock_guard lock(mu_);
    in_flight_ = false;
    if (!written) return written;
    committed_seq_ = std::max(committed_seq_, max_seq);
    stats_.written += batch.size();
    if (next == from) {  // cannot happen with our own writes; never spin on it
      log::error("trace_spill_unreadable", {{"offset", from}, {"end", end}});
      next = end;
    }
    spill_read_ = next;
    // Emptied: cut the file while record() cannot append to it.
    if (spill_read_ >= spill_.end() && spill_.truncate()) spill_read_ = 0;
    position = spill_read_;
  }
  [[maybe_unused]] auto saved = spill_.save_position(position);  // only this thread writes it
  return {};
}

util::Result<void> TraceRecorder::write_queue_once() {
  std::vector<TraceEvent> batch;
  std::uint64_t max_seq = 0;
  {
    std::lock_guard lock(mu_);
    // run() saw an empty spill file before it let go of the lock; a record()
    // may have spilled the queue's head since. Writing the rest of the queue
    // now would put newer events in the store first, and the replay would then
    // skip the spilled ones as already committed: lost events. Replay first.
    if (spill_read_ < spill_.end()) return {};
    std::size_t n = std::min(opt_.batch_size, mem_.size());
    batch.reserve(n);
    for (std::size_t i = 0; i < n; ++i) batch.push_back(mem_[i].event);
    if (n) max_seq = mem_[n - 1].seq;
    in_flight_ = true;
  }
  auto written = batch.empty() ? util::Result<void>{} : store_.append(batch);
  std::lock_guard lock(mu_);
  in_flight_ = false;
  if (!written) return written;
  committed_seq_ = std::max(committed_seq_, max_seq);
  // The queue may have been moved to the spill file meanwhile; replay skips those.
  while (!mem_.empty() && mem_.front().seq <= committed_seq_) mem_.pop_front();
  stats_.written += batch.size();
  return {};
}

void TraceRecorder::run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (store_down_ && std::chrono::steady_clock::now() < retry_at_) {
      spill_queue_locked();
      sync_spill(lock);
      writer_waiting_ = true;
      wake_.wait_until(lock, retry_at_, [&] { return stop_ || mem_.size() >= opt_.batch_size; });
      writer_waiting_ = false;
      continue;
    }
    bool has_spill = spill_read_ < spill_.end();
    if (!has_spill && mem_.empty()) {
      idle_.notify_all();
      writer_waiting_ = true;
      wake_.wait(lock, [&] { return stop_ || !mem_.empty() || spill_read_ < spill_.end(); });
      writer_waiting_ = false;
      continue;
    }
    if (!has_spill && mem_.size() < opt_.batch_size && opt_.linger.count() > 0) {
      // A short batch: let it fill for a moment so that it shares one commit.
      writer_waiting_ = true;
      wake_.wait_for(lock, opt_.linger, [&] { return stop_ || mem_.size() >= opt_.batch_size; });
      writer_waiting_ = false;
      has_spill = spill_read_ < spill_.end();
    }
    lock.unlock();
    auto r = has_spill ? replay_spill_once() : write_queue_once();
    lock.lock();
    if (!r) {
      store_failed_locked(r.error().message);
      sync_spill(lock);
    } else if (store_down_) {
      log::info("trace_store_up", {{"failures", stats_.store_failures}});
      store_down_ = false;
      backoff_ = std::chrono::milliseconds{0};
    }
    if (idle_locked()) idle_.notify_all();
  }
  drain_at_stop(lock);
}

void TraceRecorder::drain_at_stop(std::unique_lock<std::mutex>& lock) {
  // A clean stop writes what it can; what the store cannot take waits on disk.
  while (!store_down_ && spill_read_ >= spill_.end() && !mem_.empty()) {
    lock.unlock();
    auto r = write_queue_once();
    lock.lock();
    if (!r) store_down_ = true;
  }
  spill_queue_locked();
  if (unsynced_ && spill_.sync()) unsynced_ = false;
  idle_.notify_all();
}

}  // namespace mailmoat::store
