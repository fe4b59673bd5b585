#include "util/group_sync.h"

namespace mailmoat::util {

int GroupSync::sync() {
  std::unique_lock lock(mu_);
  // A round running now may have started before the caller's change: wait for the next one.
  const std::uint64_t target = done_ + (running_ ? 2 : 1);
  ++rounds_[target].waiters;
  while (done_ < target) {
    if (running_) {
      done_cv_.wait(lock);
      continue;
    }
    // Nothing runs and the caller's round is next (done_ == target - 1): lead it.
    running_ = true;
    lock.unlock();
    const int error = action_();
    lock.lock();
    running_ = false;
    rounds_[++done_].error = error;
    done_cv_.notify_all();
  }
  auto it = rounds_.find(target);
  const int error = it->second.error;
  if (--it->second.waiters == 0) rounds_.erase(it);
  return error;
}

std::uint64_t GroupSync::rounds() const {
  std::lock_guard lock(mu_);
  return done_;
}

}  // namespace mailmoat::util
