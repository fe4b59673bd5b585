// Group commit for one durability action shared by many writers, such as
// fsync of a directory after each writer renamed a file into it: a caller
// returns once an action that *started after its call* has finished, so its
// own change is covered, while one action serves every caller that arrived
// during the previous one. Callers block (it is for worker threads).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace mailmoat::util {

class GroupSync {
 public:
  explicit GroupSync(std::function<int()> action) : action_(std::move(action)) {}
  // Runs or joins an action that starts after this call; its result: 0 for
  // success, else the action's error number (errno of a failed fsync).
  int sync();
  // How many times the action ran (for tests and metrics).
  std::uint64_t rounds() const;

 private:
  struct Round {
    int waiters = 0;
    int error = 0;
  };
  std::function<int()> action_;
  mutable std::mutex mu_;
  std::condition_variable done_cv_;
  std::uint64_t done_ = 0;  // rounds finished
  bool running_ = false;
  std::map<std::uint64_t, Round> rounds_;  // rounds someone waits for
};

}  // namespace mailmoat::util
