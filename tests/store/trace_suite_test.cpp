// The shared store suite, part 1: message trace, run against SQLite and
// PostgreSQL alike (value-parameterised by backend name).
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <tuple>
#include <thread>

#include "store_suite.h"
#include "util/strings.h"

namespace mailmoat::store::testing {
namespace {

constexpr Micros kT0 = 1'790'000'000'000'000;  // 2026-09-22, a fixed "now"

TraceEvent receive(const std::string& id, Micros at, const std::string& sender, std::vector<std::string> rcpts,
                   const std::string& subject = "hello", const std::string& ip = "192.0.2.1",
                   Direction dir = Direction::inbound, const std::string& msgid = "") {
  TraceEvent e;
  e.trace_id = id;
  e.at = at;
  e.type = EventType::received;
  e.detail = R"({"helo":"mx.example"})";
  e.message = MessageInfo{sender, std::move(rcpts), subject, msgid.empty() ? "<" + id + "@example>" : msgid, ip, dir, 1234};
  return e;
}

std::vector<std::string> ids_of(const Page<TraceRecord>& p) {
  std::vector<std::string> out;
  for (const auto& r : p.items) out.push_back(r.trace_id + "/" + r.recipient);
  return out;
}

class TraceSuite : public StoreSuite {
 protected:
  Page<TraceRecord> find(TraceQuery q) {
    auto r = stores->trace->search(q);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : Page<TraceRecord>{};
  }
  void add(std::vector<TraceEvent> events) {
    auto r = stores->trace->append(events);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
};

TEST_P(TraceSuite, ReceivedMessageHasOneRecordPerRecipientNewestFirst) {
  add({receive("q1", kT0, "alice@example.com", {"bob@example.org", "carol@example.org"}),
       receive("q2", kT0 + 10, "alice@example.com", {"dave@example.org"})});
  auto page = find(TraceQuery{.sender = "alice@example.com"});
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].trace_id, "q2");
  EXPECT_EQ(page.items[0].status, TraceStatus::received);
  EXPECT_EQ(page.items[0].size, 1234);
  EXPECT_EQ(page.items[1].received_at, kT0);
  EXPECT_TRUE(page.next_cursor.empty());
}

TEST_P(TraceSuite, WildcardsMatchPrefixSuffixMiddleAndCase) {
  add({receive("a", kT0, "Alice@Example.COM", {"x@one.test"}), receive("b", kT0 + 1, "alan@example.net", {"y@two.test"}),
       receive("c", kT0 + 2, "bob@example.com", {"z@one.test"})});
  auto count = [&](TraceQuery q) { return find(std::move(q)).items.size(); };
  EXPECT_EQ(count({.sender = "al*"}), 2u);
  EXPECT_EQ(count({.sender = "*@example.com"}), 2u);
  EXPECT_EQ(count({.sender = "a*@example.*"}), 2u);
  EXPECT_EQ(count({.sender = "ALICE@example.com"}), 1u);
  EXPECT_EQ(count({.sender = "*"}), 3u);
  EXPECT_EQ(count({.sender = "*li*"}), 1u);
  EXPECT_EQ(count({.sender = "alice"}), 0u);  // no wildcard: the whole address
  EXPECT_EQ(count({.recipient = "*@one.test"}), 2u);
  EXPECT_EQ(count({.recipient = "y@*"}), 1u);
}

// Every search field gets SQL metacharacters; they must be matched literally.
TEST_P(TraceSuite, SqlMetacharactersAreDataInEverySearchField) {
  const std::string nasty = "o'hara\"%_\\;--@x.test";
  add({receive("m1", kT0, nasty, {nasty}, "50% off_now'; DROP TABLE trace_records;--", "::1'--", Direction::inbound,
               "<'%_\\@x>"),
       receive("m2", kT0 + 1, "ohara@x.test", {"oxhara@x.test"}, "50 off now", "::1", Direction::inbound,
               "<ab@x>")});
  EXPECT_EQ(ids_of(find({.sender = nasty})), std::vector<std::string>{"m1/" + nasty});
  EXPECT_EQ(find({.sender = "o'hara\"%*"}).items.size(), 1u);
  EXPECT_EQ(find({.sender = "o_hara*"}).items.size(), 0u);  // _ is not "any character"
  EXPECT_EQ(find({.sender = "%"}).items.size(), 0u);        // % is not "anything"
  EXPECT_EQ(find({.sender = "*%_\\;*"}).items.size(), 1u);
  EXPECT_EQ(find({.recipient = nasty}).items.size(), 1u);
  EXPECT_EQ(find({.recipient = "*\\;--@x.test"}).items.size(), 1u);
  EXPECT_EQ(find({.message_id = "<'%_\\@x>"}).items.size(), 1u);
  EXPECT_EQ(find({.message_id = "' OR '1'='1"}).items.size(), 0u);
  EXPECT_EQ(find({.client_ip = "::1'--"}).items.size(), 1u);
  EXPECT_EQ(find({.subject_words = {"50%"}}).items.size(), 1u);
  EXPECT_EQ(find({.subject_words = {"off_now'"}}).items.size(), 1u);
  EXPECT_EQ(find({.subject_words = {"DROP", "trace_records;--"}}).items.size(), 1u);
  EXPECT_EQ(find({.sender = "' OR 1=1 --"}).items.size(), 0u);
  EXPECT_EQ(find({}).items.size(), 2u);  // the table is still there
}

// `*` glob over ASCII-lower-cased text: the reference the store must agree with.
bool glob_match(std::string_view pat, std::string_view text) {
  if (pat.empty()) return text.empty();
  if (pat[0] == '*') {
    for (std::size_t i = 0; i <= text.size(); ++i)
      if (glob_match(pat.substr(1), text.substr(i))) return true;
    return false;
  }
  return !text.empty() && util::ascii_lower(pat[0]) == util::ascii_lower(text[0]) &&
         glob_match(pat.substr(1), text.substr(1));
}

// Random addresses full of LIKE and SQL metacharacters and multi-byte UTF-8,
// random patterns cut from them: the store finds exactly what the reference finds.
TEST_P(TraceSuite, WildcardSearchAgreesWithAReferenceMatcher) {
  const std::vector<std::string> pieces = {"a", "B", "%", "_", "\\", "'", "\"", ".", "@", "x", "\xC3\xA9", "\xF0\x9F\x98\x80", "-", "Z"};
  std::mt19937 rng(1234);
  auto word = [&](int n) {
    std::string w;
    for (int i = 0; i < n; ++i) w += pieces[rng() % pieces.size()];
    return w;
  };
  std::vector<std::string> senders;
  std::vector<TraceEvent> batch;
  for (int i = 0; i < 120; ++i) {
    senders.push_back(word(1 + rng() % 4) + "@" + word(1 + rng() % 3));
    batch.push_back(receive("w" + std::to_string(i), kT0 + i, senders.back(), {"r@y.test"}));
  }
  add(batch);
  for (int k = 0; k < 60; ++k) {
    const std::string& base = senders[rng() % senders.size()];
    std::string pat;
    for (std::size_t i = 0; i < base.size(); ++i) {  // cut at character boundaries only
      bool boundary = (static_cast<unsigned char>(base[i]) & 0xC0) != 0x80;
      if (boundary && rng() % 4 == 0) {
        pat += '*';
        while (i + 1 < base.size() && rng() % 2) ++i;
        while (i + 1 < base.size() && (static_cast<unsigned char>(base[i + 1]) & 0xC0) == 0x80) ++i;
        continue;
      }
      pat += base[i];
    }
    std::set<std::string> expected, got;
    for (int i = 0; i < 120; ++i)
      if (glob_match(pat, senders[i])) expected.insert("w" + std::to_string(i));
    for (const auto& r : find({.sender = pat, .limit = 1000}).items) got.insert(r.trace_id);
    EXPECT_FALSE(expected.empty());  // the pattern was cut from a stored address
    EXPECT_EQ(got, expected) << "pattern " << pat;
  }
}

TEST_P(TraceSuite, FiltersByTimeStatusDirectionIpMessageIdAndSubjectWords) {
  add({receive("t1", kT0, "a@x.test", {"r@y.test"}, "Quarterly Report", "192.0.2.7", Direction::inbound, "<id1@x>"),
       receive("t2", kT0 + 100, "a@x.test", {"r@y.test"}, "weekly report", "192.0.2.8", Direction::outbound, "<id2@x>"),
       receive("t3", kT0 + 200, "a@x.test", {"r@y.test"}, "lunch", "192.0.2.7", Direction::internal, "<id3@x>")});
  TraceEvent delivered{.trace_id = "t2", .at = kT0 + 150, .type = EventType::delivery_attempt, .recipient = "",
                       .status = TraceStatus::delivered, .detail = "{}", .message = std::nullopt};
  add({delivered});
  EXPECT_EQ(ids_of(find({.since = kT0 + 100})), (std::vector<std::string>{"t3/r@y.test", "t2/r@y.test"}));
  EXPECT_EQ(ids_of(find({.until = kT0 + 100})), std::vector<std::string>{"t1/r@y.test"});
  EXPECT_EQ(ids_of(find({.since = kT0 + 50, .until = kT0 + 150})), std::vector<std::string>{"t2/r@y.test"});
  EXPECT_EQ(ids_of(find({.status = TraceStatus::delivered})), std::vector<std::string>{"t2/r@y.test"});
  EXPECT_EQ(ids_of(find({.message_id = "<id3@x>"})), std::vector<std::string>{"t3/r@y.test"});
  EXPECT_EQ(find({.client_ip = "192.0.2.7"}).items.size(), 2u);
  EXPECT_EQ(ids_of(find({.direction = Direction::outbound})), std::vector<std::string>{"t2/r@y.test"});
  EXPECT_EQ(find({.subject_words = {"REPORT"}}).items.size(), 2u);
  EXPECT_EQ(ids_of(find({.subject_words = {"report", "quarter"}})), std::vector<std::string>{"t1/r@y.test"});
}

TEST_P(TraceSuite, PagesCoverEveryRecordOnceNewestFirst) {
  std::vector<TraceEvent> batch;
  for (int i = 0; i < 25; ++i)  // pairs share a timestamp, so the cursor must break ties
    batch.push_back(receive("p" + std::to_string(i), kT0 + i / 2, "s@x.test", {"r@y.test"}));
  add(batch);
  std::vector<TraceRecord> all;
  std::string cursor;
  int pages = 0;
  do {
    auto page = find({.sender = "s@x.test", .limit = 10, .cursor = cursor});
    all.insert(all.end(), page.items.begin(), page.items.end());
    cursor = page.next_cursor;
    ++pages;
  } while (!cursor.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(all.size(), 25u);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    seen.insert(all[i].trace_id);
    if (i) {
      EXPECT_GE(all[i - 1].received_at, all[i].received_at);
    }
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(all.front().trace_id, "p24");
}

TEST_P(TraceSuite, BadCursorIsAnError) {
  for (std::string bad : {"x", "1.", ".2", "1.2'; --", "99999999999999999999.1"}) {
    auto r = stores->trace->search({.cursor = bad});
    EXPECT_FALSE(r.has_value()) << bad;
  }
}

TEST_P(TraceSuite, StatusEventsMoveOneOrAllRecipientsAndTimelineKeepsOrder) {
  add({receive("d1", kT0, "s@x.test", {"a@y.test", "b@y.test"})});
  add({TraceEvent{"d1", kT0 + 5, EventType::rule_hit, "", std::nullopt, R"({"rule":"r1"})", std::nullopt},
       TraceEvent{"d1", kT0 + 6, EventType::delivery_attempt, "a@y.test", TraceStatus::delivered,
                  R"({"reply":"250 ok"})", std::nullopt},
       TraceEvent{"d1", kT0 + 7, EventType::delivery_attempt, "b@y.test", TraceStatus::deferred,
                  R"({"reply":"451 later"})", std::nullopt}});
  auto d = stores->trace->detail("d1");
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->records.size(), 2u);
  EXPECT_EQ(d->records[0].status, TraceStatus::delivered);
  EXPECT_EQ(d->records[1].status, TraceStatus::deferred);
  EXPECT_EQ(d->records[1].updated_at, kT0 + 7);
  ASSERT_EQ(d->events.size(), 4u);
  EXPECT_EQ(d->events[0].type, EventType::received);
  EXPECT_EQ(d->events[1].detail, R"({"rule":"r1"})");
  EXPECT_FALSE(d->events[1].status.has_value());
  EXPECT_EQ(d->events[3].recipient, "b@y.test");
  EXPECT_EQ(d->events[3].status, TraceStatus::deferred);
  add({TraceEvent{"d1", kT0 + 9, EventType::quarantined, "", TraceStatus::quarantined, "{}", std::nullopt}});
  EXPECT_EQ(find({.status = TraceStatus::quarantined}).items.size(), 2u);
  EXPECT_TRUE(stores->trace->detail("unknown")->records.empty());
}

// A batch reduces its status changes before writing them; the outcome must be
// the same as applying the events one by one.
TEST_P(TraceSuite, StatusChangesInOneBatchEndAsIfAppliedOneByOne) {
  auto events_for = [](const std::string& id) {
    auto st = [&](Micros dt, std::string rcpt, TraceStatus s) {
      return TraceEvent{id, kT0 + dt, EventType::status_changed, std::move(rcpt), s, "{}", std::nullopt};
    };
    return std::vector<TraceEvent>{receive(id, kT0, "s@x.test", {"a@y.test", "b@y.test", "c@y.test"}),
                                   st(1, "", TraceStatus::analyzing),     st(2, "a@y.test", TraceStatus::delivered),
                                   st(3, "", TraceStatus::deferred),      st(4, "b@y.test", TraceStatus::delivered),
                                   st(5, "c@y.test", TraceStatus::failed), st(6, "b@y.test", TraceStatus::redirected),
                                   st(7, "c@y.test", TraceStatus::expanded)};
  };
  add(events_for("batch"));
  for (const auto& e : events_for("single")) add({e});
  auto statuses = [&](const std::string& id) {
    std::vector<std::pair<std::string, TraceStatus>> out;
    auto d = stores->trace->detail(id);
    for (const auto& r : d->records) out.emplace_back(r.recipient, r.status);
    return out;
  };
  auto expected = std::vector<std::pair<std::string, TraceStatus>>{
      {"a@y.test", TraceStatus::deferred}, {"b@y.test", TraceStatus::redirected}, {"c@y.test", TraceStatus::expanded}};
  EXPECT_EQ(statuses("batch"), expected);
  EXPECT_EQ(statuses("single"), expected);
  EXPECT_EQ(stores->trace->detail("batch")->events.size(), 8u);
  EXPECT_EQ(stores->trace->detail("batch")->records[0].updated_at, kT0 + 3);
}

TEST_P(TraceSuite, PurgeRemovesOldMessagesAndTheirEvents) {
  add({receive("old", kT0, "s@x.test", {"r@y.test"}), receive("new", kT0 + 1000, "s@x.test", {"r@y.test"})});
  add({TraceEvent{"old", kT0 + 2000, EventType::delivery_attempt, "", TraceStatus::delivered, "{}", std::nullopt}});
  auto purged = stores->trace->purge(kT0 + 500);
  ASSERT_TRUE(purged.has_value()) << purged.error().message;
  EXPECT_EQ(*purged, 1);
  EXPECT_EQ(ids_of(find({})), std::vector<std::string>{"new/r@y.test"});
  EXPECT_TRUE(stores->trace->detail("old")->events.empty());
  EXPECT_EQ(stores->trace->detail("new")->events.size(), 1u);
}

TEST_P(TraceSuite, HourlyCountsByDirectionAndStatus) {
  constexpr Micros kHour = 3'600'000'000;
  constexpr Micros h0 = kT0 / kHour * kHour;
  add({receive("h1", h0 + 10, "s@x.test", {"a@y.test", "b@y.test"}),
       receive("h2", h0 + 20, "s@x.test", {"a@y.test"}, "x", "192.0.2.1", Direction::outbound),
       receive("h3", h0 + kHour + 5, "s@x.test", {"a@y.test"}),
       receive("h4", h0 + 3 * kHour, "s@x.test", {"a@y.test"})});
  add({TraceEvent{"h1", h0 + 30, EventType::delivery_attempt, "b@y.test", TraceStatus::delivered, "{}", std::nullopt}});
  auto counts = stores->trace->hourly_counts(h0, h0 + 2 * kHour);
  ASSERT_TRUE(counts.has_value()) << counts.error().message;
  std::vector<std::tuple<Micros, Direction, TraceStatus, std::int64_t>> got;
  for (const auto& c : *counts) got.emplace_back(c.hour, c.direction, c.status, c.count);
  EXPECT_EQ(got, (std::vector<std::tuple<Micros, Direction, TraceStatus, std::int64_t>>{
                     {h0, Direction::inbound, TraceStatus::delivered, 1},
                     {h0, Direction::inbound, TraceStatus::received, 1},
                     {h0, Direction::outbound, TraceStatus::received, 1},
                     {h0 + kHour, Direction::inbound, TraceStatus::received, 1}}));
}

TEST_P(TraceSuite, EventsOfOneKindAcrossMessagesNewestFirstInTheWindow) {
  add({receive("e1", kT0, "s@x.test", {"a@y.test"}), receive("e2", kT0 + 100, "s@x.test", {"a@y.test"})});
  add({TraceEvent{"e1", kT0 + 1, EventType::authentication, "", std::nullopt,
                  R"({"detail":"spf=pass dkim=pass dmarc=pass","event":"results","filter":"auth"})", std::nullopt},
       TraceEvent{"e1", kT0 + 2, EventType::note, "", std::nullopt,
                  R"({"detail":"name=\"a.pdf\" verdict=clean","event":"attachment","filter":"attachments"})", std::nullopt},
       TraceEvent{"e1", kT0 + 3, EventType::note, "", std::nullopt,
                  R"({"detail":"rule x","event":"rule_matched","filter":"rules"})", std::nullopt},
       TraceEvent{"e2", kT0 + 101, EventType::authentication, "", std::nullopt,
                  R"({"detail":"spf=fail dmarc=fail","event":"results","filter":"auth"})", std::nullopt}});
  auto auth = stores->trace->events({.type = EventType::authentication, .since = kT0, .until = kT0 + 1000});
  ASSERT_TRUE(auth.has_value()) << auth.error().message;
  ASSERT_EQ(auth->size(), 2u);
  EXPECT_EQ((*auth)[0].trace_id, "e2");
  EXPECT_EQ((*auth)[1].trace_id, "e1");
  auto att = stores->trace->events({.type = EventType::note, .filter = "attachments", .since = kT0, .until = kT0 + 1000});
  ASSERT_TRUE(att.has_value()) << att.error().message;
  ASSERT_EQ(att->size(), 1u);
  EXPECT_NE((*att)[0].detail.find("a.pdf"), std::string::npos);
  auto window = stores->trace->events({.type = EventType::authentication, .since = kT0 + 50, .until = kT0 + 1000});
  ASSERT_TRUE(window.has_value());
  EXPECT_EQ(window->size(), 1u);
  auto limited = stores->trace->events({.type = EventType::authentication, .since = kT0, .until = kT0 + 1000, .limit = 1});
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->size(), 1u);
}

TEST_P(TraceSuite, ReplayingTheSameReceiveIsIdempotent) {
  auto e = receive("r1", kT0, "s@x.test", {"r@y.test"});
  add({e});
  add({TraceEvent{"r1", kT0 + 1, EventType::delivery_attempt, "", TraceStatus::delivered, "{}", std::nullopt}});
  add({e});
  auto page = find({});
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].status, TraceStatus::delivered);
}

TEST_P(TraceSuite, ConcurrentWritersFromSeveralThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto e = receive("c" + std::to_string(t) + "-" + std::to_string(i), kT0 + i, "s@x.test", {"r@y.test"});
        EXPECT_TRUE(stores->trace->append(std::span(&e, 1)).has_value());
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(find({.limit = 1000}).items.size(), 200u);
}

INSTANTIATE_BACKENDS(TraceSuite);

}  // namespace
}  // namespace mailmoat::store::testing
