// Accounts over a real SQLite store with a pinned clock: passwords are kept
// only as argon2id hashes, sessions expire when idle and absolutely, deleting
// an account or changing its password ends its sessions, and the sign-in
// limiter locks after five failures in fifteen minutes.
#include <gtest/gtest.h>

#include <filesystem>

#include "app/accounts.h"
#include "sqlite_stores_test_base.h"
#include "store/stores.h"

namespace mailmoat::app {
namespace {

class PinnedClock final : public store::Clock {
 public:
  store::Micros now() const override { return t; }
  store::Micros t = 1'700'000'000'000'000;
};

constexpr long long kMinute = 60'000'000;

class AccountsTest : public SqliteStoresTest {
 protected:
  AccountsTest() : SqliteStoresTest("mm-accounts-") {}
  PinnedClock clock_;
};

TEST_F(AccountsTest, PasswordsAreArgon2idHashesAndVerify) {
  Accounts a(*stores_->settings, clock_, 60);
  ASSERT_TRUE(a.create_user("alice", Role::admin, "correct horse battery", "test"));
  auto stored = stores_->settings->get("user/alice");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ((*stored)->find("correct horse battery"), std::string::npos);
  EXPECT_NE((*stored)->find("$argon2id$"), std::string::npos) << **stored;
  EXPECT_EQ(a.verify("alice", "correct horse battery"), Role::admin);
  EXPECT_FALSE(a.verify("alice", "correct horse batterY"));
  EXPECT_FALSE(a.verify("bob", "correct horse battery"));
  EXPECT_FALSE(a.create_user("alice", Role::viewer, "another password", "test")) << "duplicate name";
  EXPECT_FALSE(a.create_user("carol", Role::viewer, "short", "test")) << "too short";
  EXPECT_FALSE(a.create_user("bad name", Role::viewer, "long enough pw", "test"));
}

TEST_F(AccountsTest, SessionsExpireWhenIdleAndAbsolutely) {
  Accounts a(*stores_->settings, clock_, 60);
  ASSERT_TRUE(a.create_user("alice", Role::viewer, "correct horse battery", "test"));
  auto opened = a.open_session("alice", Role::viewer);
  ASSERT_TRUE(opened);
  const std::string id = opened->first;
  EXPECT_EQ(id.size(), 64u);
  // Only the hash of the id is stored.
  auto all = stores_->settings->all();
  ASSERT_TRUE(all);
  for (const auto& [k, v] : *all) EXPECT_EQ(k.find(id), std::string::npos);

  clock_.t += 59 * kMinute;
  ASSERT_TRUE(a.find_session(id)) << "active within the idle limit";
  clock_.t += 59 * kMinute;  // 118 minutes after sign-in, 59 idle
  EXPECT_FALSE(a.find_session(id)) << "absolute lifetime is 60 minutes";

  auto second = a.open_session("alice", Role::viewer);
  ASSERT_TRUE(second);
  clock_.t += 61 * kMinute;
  EXPECT_FALSE(a.find_session(second->first)) << "idle for more than 60 minutes";
  EXPECT_FALSE(a.find_session(std::string(64, 'a')));
}

TEST_F(AccountsTest, DeletingOrRepasswordingEndsSessionsAndRoleComesFromTheAccount) {
  Accounts a(*stores_->settings, clock_, 60);
  ASSERT_TRUE(a.create_user("alice", Role::admin, "correct horse battery", "test"));
  auto s1 = a.open_session("alice", Role::admin);
  ASSERT_TRUE(s1);
  ASSERT_TRUE(a.set_password("alice", "a brand new password"));
  EXPECT_FALSE(a.find_session(s1->first));
  EXPECT_FALSE(a.verify("alice", "correct horse battery"));
  EXPECT_EQ(a.verify("alice", "a brand new password"), Role::admin);
  auto s2 = a.open_session("alice", Role::admin);
  ASSERT_TRUE(s2);
  ASSERT_TRUE(a.delete_user("alice"));
  EXPECT_FALSE(a.find_session(s2->first));
  EXPECT_FALSE(a.delete_user("alice"));
}

TEST(FailureLimiter, FiveFailuresInFifteenMinutesLock) {
  FailureLimiter l(5, std::chrono::minutes(15));
  long long t = 0;
  for (int i = 0; i < 4; ++i) {
    l.fail("k", t);
    t += kMinute;
  }
  EXPECT_EQ(l.retry_after("k", t), 0);
  l.fail("k", t);  // fifth, at minute 4
  EXPECT_EQ(l.retry_after("k", t), 11 * 60) << "until the first failure is 15 minutes old";
  EXPECT_EQ(l.retry_after("other", t), 0);
  t = 15 * kMinute;
  EXPECT_EQ(l.retry_after("k", t), 0);
  l.clear("k");
  EXPECT_EQ(l.retry_after("k", t), 0);
}

}  // namespace
}  // namespace mailmoat::app
