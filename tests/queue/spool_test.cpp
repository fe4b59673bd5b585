// The spool against a real directory: segments (many messages per file, one
// shared fdatasync), own files for held, large and deferred messages, and what
// recovery finds after a run ends at any point.
#include "queue/spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "util/crc32.h"

namespace mailmoat::queue {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mailmoat-spool-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static QueuedMessage message(const std::string& id, const std::string& to = "u@example.test") {
    QueuedMessage m;
    m.id = id;
    m.envelope.sender = "a@sender.test";
    RecipientState r;
    r.address = to;
    m.recipients.push_back(r);
    m.envelope.recipients.push_back({to, "", ""});
    return m;
  }
  static std::string body(int n, std::size_t size = 200) {
    std::string b = "Subject: " + std::to_string(n) + "\r\n\r\n";
    while (b.size() < size) b += "line of message " + std::to_string(n) + "\r\n";
    return b;
  }
  std::vector<std::string> names(const std::string& sub) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_ + "/" + sub)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string segment_path() const {
    for (const auto& n : names("segments"))
      if (!n.ends_with(".done")) return dir_ + "/segments/" + n;
    return {};
  }
  static std::set<std::string> ids(const RecoveryReport& r) {
    std::set<std::string> out;
    for (const auto& m : r.messages) out.insert(m.id);
    return out;
  }

  std::string dir_;
};

TEST_F(SpoolTest, MessagesDueNowShareOneSegmentAndReadBack) {
  Spool spool(dir_);
  ASSERT_TRUE(spool.open());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(spool.store(message("m" + std::to_string(i)), body(i)));
  EXPECT_EQ(spool.segment_count(), 1u);
  EXPECT_TRUE(names("queue").empty()) << "no file per message";
  for (int i = 0; i < 5; ++i) {
    auto read = spool.read_message("m" + std::to_string(i));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, body(i));
  }
}

TEST_F(SpoolTest, RecoveryFindsEveryStoredMessageNotYetRemoved) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(spool.store(message("m" + std::to_string(i)), body(i)));
    spool.remove("m1");
    spool.remove("m4");
  }  // the process ends here without any shutdown work
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  EXPECT_EQ(ids(r), (std::set<std::string>{"m0", "m2", "m3", "m5"}));
  EXPECT_EQ(r.discarded_incomplete, 0u);
  EXPECT_TRUE(r.corrupt.empty());
  for (const auto& m : r.messages) {
    EXPECT_EQ(m.envelope.sender, "a@sender.test");
    ASSERT_EQ(m.recipients.size(), 1u);
    auto read = again.read_message(m.id);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, body(std::stoi(m.id.substr(1))));
  }
  // Delivered after the restart: the old segment goes once nothing in it is left.
  for (const auto& m : r.messages) again.remove(m.id);
  EXPECT_EQ(again.segment_count(), 0u);
  Spool third(dir_);
  ASSERT_TRUE(third.open());
  EXPECT_TRUE(third.recover().messages.empty());
}

TEST_F(SpoolTest, ATornTailIsDiscardedAndEverythingBeforeItKept) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool.store(message("m" + std::to_string(i)), body(i, 3000)));
  }
  // A crash in the middle of the next append: half a record at the end.
  std::string seg = segment_path();
  ASSERT_FALSE(seg.empty());
  std::string whole;
  {
    std::ifstream in(seg, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out << whole.substr(0, whole.size() / 3 / 2);
  }
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  EXPECT_EQ(ids(r), (std::set<std::string>{"m0", "m1", "m2"}));
  EXPECT_EQ(r.discarded_incomplete, 1u);
  // New messages go to a new segment, never after the torn bytes.
  ASSERT_TRUE(again.store(message("n0"), body(7)));
  EXPECT_EQ(again.segment_count(), 2u);
  Spool third(dir_);
  ASSERT_TRUE(third.open());
  EXPECT_EQ(ids(third.recover()), (std::set<std::string>{"m0", "m1", "m2", "n0"}));
}

TEST_F(SpoolTest, ARecordWithBadMetadataIsKeptInCorruptAndReported) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    ASSERT_TRUE(spool.store(message("m0"), body(0)));
  }
  // A record whose checksum holds but whose metadata is not JSON, then a good one after it.
  auto le = [](std::uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
  };
  std::string meta = "not json", msg = "Subject: x\r\n\r\nbody\r\n";
  std::string rec = std::string("MMQ1") + le(meta.size(), 4) + meta + le(msg.size(), 8) + msg;
  rec += le(util::crc32(rec), 4);
  {
    std::ofstream out(segment_path(), std::ios::binary | std::ios::app);
    out << rec;
  }
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    (void)spool.recover();
    ASSERT_TRUE(spool.store(message("m1"), body(1)));
  }
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  EXPECT_EQ(ids(r), (std::set<std::string>{"m0", "m1"}));
  ASSERT_EQ(r.corrupt.size(), 1u);
  EXPECT_NE(r.corrupt[0].find("metadata is not JSON"), std::string::npos) << r.corrupt[0];
  EXPECT_EQ(names("corrupt").size(), 1u) << "the bad record is kept for the administrator";
}

TEST_F(SpoolTest, SavingDeliveryStateMovesTheMessageToItsOwnFile) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    ASSERT_TRUE(spool.store(message("m0"), body(0)));
    ASSERT_TRUE(spool.store(message("m1"), body(1)));
    QueuedMessage deferred = message("m0");
    deferred.recipients[0].attempts = 1;
    deferred.recipients[0].next_attempt = 12345;
    deferred.recipients[0].last_reply = "451 4.3.0 try later";
    ASSERT_TRUE(spool.save_state(deferred));
    EXPECT_EQ(names("queue"), (std::vector<std::string>{"m0", "m0.state"}));
    auto read = spool.read_message("m0");
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, body(0));
    spool.remove("m1");
  }
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  ASSERT_EQ(ids(r), (std::set<std::string>{"m0"}));
  EXPECT_EQ(r.messages[0].recipients[0].last_reply, "451 4.3.0 try later");
  EXPECT_EQ(r.messages[0].recipients[0].attempts, 1);
  EXPECT_EQ(again.segment_count(), 0u) << "nothing left in the segment";
}

TEST_F(SpoolTest, AMessageMovedOutIsRecoveredOnceEvenIfItsDoneMarkWasLost) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    ASSERT_TRUE(spool.store(message("m0"), body(0)));
    ASSERT_TRUE(spool.store(message("m1"), body(1)));
    ASSERT_TRUE(spool.save_state(message("m0")));
  }
  // A power cut took the unsynced done mark; the segment still holds m0 too.
  for (const auto& n : names("segments"))
    if (n.ends_with(".done")) fs::remove(dir_ + "/segments/" + n);
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  EXPECT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(ids(r), (std::set<std::string>{"m0", "m1"}));
}

TEST_F(SpoolTest, OnlyASegmentMessageIsRemovedWithoutItsOwnFile) {
  Spool spool(dir_);
  ASSERT_TRUE(spool.open());
  QueuedMessage held = message("held");
  held.held = true;
  ASSERT_TRUE(spool.store(held, body(0)));
  ASSERT_TRUE(spool.store(message("seg"), body(1)));
  EXPECT_FALSE(spool.remove_if_in_segment("held"));
  EXPECT_TRUE(spool.remove_if_in_segment("seg"));
  EXPECT_FALSE(spool.remove_if_in_segment("seg")) << "already gone";
  EXPECT_FALSE(spool.read_message("seg"));
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  EXPECT_EQ(ids(again.recover()), (std::set<std::string>{"held"}));
}

TEST_F(SpoolTest, HeldDelayedAndLargeMessagesGetTheirOwnFiles) {
  SpoolOptions small;
  small.segment_max_message = 1000;
  Spool spool(dir_, small);
  ASSERT_TRUE(spool.open());
  QueuedMessage held = message("held");
  held.held = true;
  QueuedMessage later = message("later");
  later.hold_until = 4102444800;
  ASSERT_TRUE(spool.store(held, body(0)));
  ASSERT_TRUE(spool.store(later, body(1)));
  ASSERT_TRUE(spool.store(message("large"), body(2, 5000)));
  EXPECT_EQ(names("queue"), (std::vector<std::string>{"held", "large", "later"}));
  EXPECT_EQ(spool.segment_count(), 0u);
  ASSERT_TRUE(spool.store(message("small"), body(3, 500)));
  EXPECT_EQ(spool.segment_count(), 1u);
  auto read = spool.read_message("large");
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, body(2, 5000));
}

TEST_F(SpoolTest, SegmentsRotateAndEachGoesWhenItsMessagesAreDone) {
  SpoolOptions tiny;
  tiny.segment_bytes = 2000;  // a few records each
  Spool spool(dir_, tiny);
  ASSERT_TRUE(spool.open());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(spool.store(message("m" + std::to_string(i)), body(i, 600)));
  const std::size_t made = spool.segment_count();
  EXPECT_GE(made, 5u);
  for (int i = 0; i < 19; ++i) spool.remove("m" + std::to_string(i));
  // Only the segment that takes appends (holding m19) is left.
  EXPECT_EQ(spool.segment_count(), 1u);
  std::size_t done_files = 0;
  for (const auto& n : names("segments")) done_files += n.ends_with(".done") ? 1 : 0;
  EXPECT_LE(done_files, 1u);
}

TEST_F(SpoolTest, ASegmentThatCannotBeCreatedFallsBackToTheMessagesOwnFile) {
  Spool spool(dir_);
  ASSERT_TRUE(spool.open());
  fs::remove(dir_ + "/segments");  // nowhere to create a segment
  ASSERT_TRUE(spool.store(message("m0"), body(0)));
  EXPECT_EQ(names("queue"), (std::vector<std::string>{"m0"}));
  auto read = spool.read_message("m0");
  ASSERT_TRUE(read);
  EXPECT_EQ(*read, body(0));
}

TEST_F(SpoolTest, WithoutSegmentsEveryMessageHasItsOwnFile) {
  SpoolOptions off;
  off.segment_bytes = 0;
  Spool spool(dir_, off);
  ASSERT_TRUE(spool.open());
  ASSERT_TRUE(spool.store(message("m0"), body(0)));
  EXPECT_EQ(names("queue"), (std::vector<std::string>{"m0"}));
  EXPECT_EQ(spool.segment_count(), 0u);
}

TEST_F(SpoolTest, ConcurrentStoresAreAllDurableAndDistinct) {
  {
    Spool spool(dir_);
    ASSERT_TRUE(spool.open());
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&spool, t] {
        for (int i = 0; i < 25; ++i) {
          int n = t * 100 + i;
          EXPECT_TRUE(spool.store(message("m" + std::to_string(n)), body(n, 100 + 37 * i)));
          if (i % 3 == 0) spool.remove("m" + std::to_string(n));
        }
      });
    for (auto& th : threads) th.join();
  }
  Spool again(dir_);
  ASSERT_TRUE(again.open());
  RecoveryReport r = again.recover();
  EXPECT_EQ(r.messages.size(), 8u * 16u);
  for (const auto& m : r.messages) {
    auto read = again.read_message(m.id);
    ASSERT_TRUE(read) << m.id;
    int n = std::stoi(m.id.substr(1));
    EXPECT_EQ(*read, body(n, 100 + 37 * (n % 100)));
  }
}

}  // namespace
}  // namespace mailmoat::queue
