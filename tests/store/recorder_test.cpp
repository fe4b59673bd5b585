// The trace recorder: the spill record format, the spill file, and the
// recorder itself against SQLite and against a PostgreSQL that is stopped in
// the middle of a run and started again.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend_fixture.h"
#include "pg_server.h"
#include "store/recorder/spill_codec.h"
#include "store/recorder/spill_file.h"
#include "store/recorder/trace_recorder.h"

namespace mailmoat::store {
namespace {

using namespace std::chrono_literals;
using recorder::Decoded;

constexpr Micros kT0 = 1'790'000'000'000'000;

TraceEvent message_event(const std::string& id, int n) {
  TraceEvent e;
  e.trace_id = id;
  e.at = kT0 + n;
  e.type = EventType::received;
  e.detail = "{\"n\":" + std::to_string(n) + "}";
  e.message = MessageInfo{"s@x.test", {"a@y.test", "b@y.test"}, "subj", "<" + id + ">", "192.0.2.1",
                          Direction::outbound, 42};
  return e;
}

TraceEvent step_event(const std::string& id, int n) {
  TraceEvent e;
  e.trace_id = id;
  e.at = kT0 + n;
  e.type = EventType::rule_hit;
  e.recipient = n % 2 ? "a@y.test" : "";
  e.status = n % 3 ? std::optional<TraceStatus>() : TraceStatus::analyzing;
  e.detail = "{\"n\":" + std::to_string(n) + "}";
  return e;
}

TEST(SpillCodec, RoundTripsEveryField) {
  std::string buf;
  recorder::encode_record(buf, 7, message_event("m1", 3));
  recorder::encode_record(buf, 8, step_event("m1", 3));
  Decoded a = recorder::decode_record(buf);
  ASSERT_EQ(a.status, Decoded::Status::ok);
  EXPECT_EQ(a.seq, 7u);
  EXPECT_EQ(a.event.trace_id, "m1");
  EXPECT_EQ(a.event.message->recipients, (std::vector<std::string>{"a@y.test", "b@y.test"}));
  EXPECT_EQ(a.event.message->direction, Direction::outbound);
  EXPECT_EQ(a.event.message->size, 42);
  Decoded b = recorder::decode_record(std::string_view(buf).substr(a.consumed));
  ASSERT_EQ(b.status, Decoded::Status::ok);
  EXPECT_EQ(b.seq, 8u);
  EXPECT_EQ(b.event.status, TraceStatus::analyzing);
  EXPECT_EQ(b.event.detail, "{\"n\":3}");
  EXPECT_EQ(a.consumed + b.consumed, buf.size());
}

TEST(SpillCodec, TornAndCorruptRecordsAreNeverEvents) {
  std::string buf;
  recorder::encode_record(buf, 1, message_event("m1", 1));
  for (std::size_t cut = 0; cut < buf.size(); ++cut)
    EXPECT_EQ(recorder::decode_record(std::string_view(buf).substr(0, cut)).status, Decoded::Status::incomplete);
  for (std::size_t i = 8; i < buf.size(); ++i) {
    std::string bad = buf;
    bad[i] ^= 0x20;
    EXPECT_EQ(recorder::decode_record(bad).status, Decoded::Status::corrupt) << i;
  }
  EXPECT_EQ(recorder::crc32("123456789"), 0xCBF43926u);  // the standard check value
}

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/mailmoat-rec-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

TEST(SpillFile, TornTailIsCutAndPositionSurvivesReopen) {
  TempDir dir;
  std::string path = dir.path + "/spill";
  std::string rec;
  recorder::encode_record(rec, 1, step_event("m", 1));
  recorder::encode_record(rec, 2, step_event("m", 2));
  {
    recorder::SpillFile f;
    ASSERT_TRUE(f.open(path));
    ASSERT_TRUE(f.append(rec));
    ASSERT_TRUE(f.append(rec.substr(0, 10)));  // a crash in the middle of a write
    ASSERT_TRUE(f.sync());
  }
  recorder::SpillFile f;
  ASSERT_TRUE(f.open(path));
  EXPECT_EQ(f.end(), rec.size());
  EXPECT_EQ(f.max_seq(), 2u);
  std::uint64_t next = 0;
  auto one = f.read(0, f.end(), 1, next);
  ASSERT_TRUE(one && one->size() == 1);
  ASSERT_TRUE(f.save_position(next));
  recorder::SpillFile again;
  ASSERT_TRUE(again.open(path));
  EXPECT_EQ(again.start_position(), next);
  auto rest = again.read(next, again.end(), 10, next);
  ASSERT_TRUE(rest && rest->size() == 1);
  EXPECT_EQ(rest->front().seq, 2u);
}

// A TraceStore that can be switched off (and slowed down) around a real store,
// and counts the transactions (append calls) it is given.
class SwitchableStore final : public TraceStore {
 public:
  explicit SwitchableStore(TraceStore& inner) : inner_(inner) {}
  std::atomic<bool> down{false};
  std::atomic<int> delay_ms{0};
  std::atomic<int> appends{0};
  util::Result<void> append(std::span<const TraceEvent> events) override {
    ++appends;
    if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    if (down) return util::fail("store is down");
    return inner_.append(events);
  }
  util::Result<Page<TraceRecord>> search(const TraceQuery& q) override { return inner_.search(q); }
  util::Result<TraceDetail> detail(const std::string& id) override { return inner_.detail(id); }
  util::Result<std::vector<HourlyCount>> hourly_counts(Micros a, Micros b) override {
    return inner_.hourly_counts(a, b);
  }
  util::Result<std::int64_t> purge(Micros before) override { return inner_.purge(before); }

 private:
  TraceStore& inner_;
};

// Every event of `ids` arrived exactly once and in the order it was recorded.
void expect_all_in_order(TraceStore& store, const std::vector<std::string>& ids, int per_id) {
  for (const auto& id : ids) {
    auto d = store.detail(id);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    ASSERT_EQ(d->events.size(), static_cast<std::size_t>(per_id)) << id;
    for (int n = 0; n < per_id; ++n) EXPECT_EQ(d->events[n].detail, "{\"n\":" + std::to_string(n) + "}") << id;
    ASSERT_EQ(d->records.size(), 2u) << id;
  }
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = open("sqlite:" + dir.path + "/store.db", dir.path);
    ASSERT_TRUE(s.has_value()) << s.error().message;
    stores = std::move(*s);
    flaky = std::make_unique<SwitchableStore>(*stores->trace);
  }
  RecorderOptions options(std::size_t capacity = 20000) {
    return RecorderOptions{dir.path + "/trace-spill.log", capacity, 200, 10ms, 50ms};
  }
  // Records `per_id` events for each id from one thread per id.
  std::vector<std::string> record_concurrently(TraceRecorder& r, int threads, int per_id) {
    std::vector<std::string> ids;
    for (int t = 0; t < threads; ++t) ids.push_back("m" + std::to_string(t));
    std::vector<std::thread> ts;
    for (const auto& id : ids)
      ts.emplace_back([&r, id, per_id] {
        for (int n = 0; n < per_id; ++n) r.record(n == 0 ? message_event(id, n) : step_event(id, n));
      });
    for (auto& t : ts) t.join();
    return ids;
  }

  TempDir dir;
  std::unique_ptr<Stores> stores;
  std::unique_ptr<SwitchableStore> flaky;
};

TEST_F(RecorderTest, EventsFromSeveralThreadsAllArriveInOrder) {
  auto r = TraceRecorder::start(*stores->trace, options());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  auto ids = record_concurrently(**r, 4, 1000);
  ASSERT_TRUE((*r)->wait_idle(30s));
  expect_all_in_order(*stores->trace, ids, 1000);
  EXPECT_EQ((*r)->stats().written, 4000u);
  EXPECT_EQ((*r)->stats().spilled, 0u);
}

// Events arriving close together share one transaction: the writer lets a
// short batch fill for `linger` instead of committing each event as it comes.
TEST_F(RecorderTest, EventsCloseTogetherShareATransaction) {
  auto opts = options();
  opts.linger = 500ms;
  auto r = TraceRecorder::start(*flaky, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  for (int n = 0; n < 20; ++n) {  // a message's events a few milliseconds apart, as a session makes them
    (*r)->record(n == 0 ? message_event("burst", n) : step_event("burst", n));
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE((*r)->wait_idle(30s));
  expect_all_in_order(*stores->trace, {"burst"}, 20);
  EXPECT_LE(flaky->appends.load(), 3);  // one, unless the recording thread was preempted for 400 ms
}

TEST_F(RecorderTest, StoreDownSpillsWithoutBlockingAndReplaysInOrder) {
  auto r = TraceRecorder::start(*flaky, options());
  ASSERT_TRUE(r.has_value());
  flaky->down = true;
  flaky->delay_ms = 20;  // a store that hangs before failing must not slow record()
  auto t0 = std::chrono::steady_clock::now();
  auto ids = record_concurrently(**r, 3, 500);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 2s);
  EXPECT_FALSE((*r)->wait_idle(300ms));
  auto s = (*r)->stats();
  EXPECT_TRUE(s.store_down);
  EXPECT_GT(s.spilled, 0u);
  EXPECT_GT(s.spill_bytes, 0u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_TRUE(std::filesystem::file_size(dir.path + "/trace-spill.log") > 0);
  flaky->delay_ms = 0;
  flaky->down = false;
  ASSERT_TRUE((*r)->wait_idle(30s));
  expect_all_in_order(*stores->trace, ids, 500);
  EXPECT_EQ(std::filesystem::file_size(dir.path + "/trace-spill.log"), 0u);
}

TEST_F(RecorderTest, FullQueueSpillsFromTheCallerAndKeepsOrder) {
  flaky->delay_ms = 5;  // slower than the producers, so the 16-event queue overflows
  auto r = TraceRecorder::start(*flaky, options(16));
  ASSERT_TRUE(r.has_value());
  auto ids = record_concurrently(**r, 2, 2000);
  ASSERT_TRUE((*r)->wait_idle(60s));
  EXPECT_GT((*r)->stats().spilled, 0u);
  expect_all_in_order(*stores->trace, ids, 2000);
}

TEST_F(RecorderTest, EventsLeftInTheSpillFileAreReplayedAfterARestart) {
  std::vector<std::string> ids{"m0"};
  {
    auto r = TraceRecorder::start(*flaky, options());
    ASSERT_TRUE(r.has_value());
    flaky->down = true;
    for (int n = 0; n < 300; ++n) (*r)->record(n == 0 ? message_event("m0", n) : step_event("m0", n));
  }  // stopped while the store was down: everything is on disk
  EXPECT_TRUE(stores->trace->detail("m0")->events.empty());
  flaky->down = false;
  auto r = TraceRecorder::start(*flaky, options());
  ASSERT_TRUE(r.has_value());
  for (int n = 300; n < 400; ++n) (*r)->record(step_event("m0", n));
  ASSERT_TRUE((*r)->wait_idle(30s));
  expect_all_in_order(*stores->trace, ids, 400);
}

// After PostgreSQL restarts, the store's idle connection is dead but looks
// alive until used: the first statement (and a script, like BEGIN) must still
// succeed, on a fresh connection, rather than fail once (an API call, a sign-in).
TEST(RecorderPostgres, FirstStatementAfterARestartSucceeds) {
  testing::PgServer pg;
  ASSERT_EQ(pg.start(), "");
  std::string url = testing::create_database(pg.url());
  ASSERT_FALSE(url.empty());
  TempDir dir;
  auto stores = open(url, dir.path);
  ASSERT_TRUE(stores.has_value()) << stores.error().message;
  ASSERT_TRUE((*stores)->settings->set("k", "before"));
  ASSERT_EQ(pg.stop(), "");
  ASSERT_EQ(pg.restart(), "");
  auto got = (*stores)->settings->get("k");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->value_or(""), "before");
  ASSERT_EQ(pg.stop(), "");
  ASSERT_EQ(pg.restart(), "");
  auto written = (*stores)->settings->set("k", "after");
  EXPECT_TRUE(written) << written.error().message;
  EXPECT_EQ((*stores)->settings->get("k")->value_or(""), "after");
}

TEST(RecorderPostgres, PostgresStoppedMidRunAndStartedAgainLosesNothing) {
  testing::PgServer pg;
  ASSERT_EQ(pg.start(), "");
  std::string url = testing::create_database(pg.url());
  ASSERT_FALSE(url.empty());
  TempDir dir;
  auto stores = open(url, dir.path);
  ASSERT_TRUE(stores.has_value()) << stores.error().message;
  auto r = TraceRecorder::start(*(*stores)->trace, RecorderOptions{dir.path + "/trace-spill.log", 20000, 200, 20ms, 200ms});
  ASSERT_TRUE(r.has_value());
  std::vector<std::string> ids{"p0", "p1", "p2"};
  constexpr int kPerId = 600;
  std::atomic<bool> stopped{false}, restarted{false};
  std::vector<std::thread> producers;
  for (const auto& id : ids)
    producers.emplace_back([&, id] {
      for (int n = 0; n < kPerId; ++n) {
        // The second half is recorded while PostgreSQL is down, however slow
        // the machine (or a sanitizer) makes stopping it.
        while (n == kPerId / 2 && !stopped) std::this_thread::sleep_for(1ms);
        (*r)->record(n == 0 ? message_event(id, n) : step_event(id, n));
        if (n % 50 == 0) std::this_thread::sleep_for(10ms);
      }
    });
  std::this_thread::sleep_for(30ms);
  ASSERT_EQ(pg.stop(), "");
  stopped = true;
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE((*r)->stats().store_down);
  ASSERT_EQ(pg.restart(), "");
  restarted = true;
  for (auto& t : producers) t.join();
  ASSERT_TRUE((*r)->wait_idle(60s));
  auto s = (*r)->stats();
  EXPECT_GT(s.store_failures, 0u);
  EXPECT_GT(s.spilled, 0u);
  EXPECT_EQ(s.lost, 0u);
  expect_all_in_order(*(*stores)->trace, ids, kPerId);
}

}  // namespace
}  // namespace mailmoat::store
