#include "util/group_sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

namespace mailmoat::util {
namespace {

using namespace std::chrono_literals;

TEST(GroupSync, OneCallerRunsTheActionOnce) {
  int runs = 0;
  GroupSync g([&] {
    ++runs;
    return 0;
  });
  EXPECT_EQ(g.sync(), 0);
  EXPECT_EQ(g.sync(), 0);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(g.rounds(), 2u);
}

// Every caller's change (a counter bumped before sync()) is seen by an action
// that started after it, and concurrent callers share actions.
TEST(GroupSync, EveryChangeIsCoveredAndCallersShareActions) {
  std::atomic<int> changes{0};
  std::atomic<int> covered{0};  // changes seen when the last action started
  GroupSync g([&] {
    covered = changes.load();
    std::this_thread::sleep_for(2ms);  // a slow fsync
    return 0;
  });
  constexpr int kThreads = 8, kEach = 40;
  std::atomic<int> violations{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        int mine = ++changes;
        ASSERT_EQ(g.sync(), 0);
        if (covered.load() < mine) ++violations;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_LT(g.rounds(), static_cast<std::uint64_t>(kThreads * kEach) / 2);  // shared, not one per call
}

TEST(GroupSync, AFailedActionFailsTheCallersItCovered) {
  std::atomic<bool> fail{true};
  GroupSync g([&] { return fail.load() ? EIO : 0; });
  EXPECT_EQ(g.sync(), EIO);
  fail = false;
  EXPECT_EQ(g.sync(), 0);
  std::atomic<int> failures{0};
  fail = true;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) ts.emplace_back([&] { failures += g.sync() == EIO ? 1 : 0; });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failures.load(), 4);
}

}  // namespace
}  // namespace mailmoat::util
