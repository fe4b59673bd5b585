// Several nodes on one database (the scale-out case of issue 10, at the store
// level): two independently opened Stores on the same SQLite file or the same
// PostgreSQL database, as two `mailmoat serve` processes would have.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/sql/migrations.h"
#include "store_suite.h"

namespace mailmoat::store::testing {
namespace {

constexpr Micros kT0 = 1'790'000'000'000'000;

class NodesSuite : public StoreSuite {
 protected:
  std::unique_ptr<Stores> second_node() {
    auto s = open(db.url, db.data_dir, clock);
    EXPECT_TRUE(s.has_value()) << (s ? "" : s.error().message);
    return s ? std::move(*s) : nullptr;
  }
};

TEST_P(NodesSuite, NodesStartingTogetherOnAnEmptyDatabaseMigrateOnce) {
  stores.reset();
  FreshDatabase fresh = fresh_database(GetParam());
  std::vector<std::unique_ptr<Stores>> nodes(4);
  std::vector<std::string> errors(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      auto s = open(fresh.url, fresh.data_dir, clock);
      if (s) nodes[i] = std::move(*s);
      else errors[i] = s.error().message;
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(nodes[i]) << errors[i];
  auto c = raw_connection(fresh.url);
  auto rows = c->query("SELECT COUNT(*), MAX(version) FROM schema_version", {});
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(rows->at(0).integer(0), sql::latest_schema_version());
  EXPECT_EQ(rows->at(0).integer(1), sql::latest_schema_version());
  nodes.clear();
  std::error_code ec;
  std::filesystem::remove_all(fresh.data_dir, ec);
}

TEST_P(NodesSuite, TraceWrittenOnOneNodeIsFoundOnTheOther) {
  auto b = second_node();
  ASSERT_TRUE(b);
  TraceEvent e{"n1", kT0, EventType::received, "", std::nullopt, "{}",
               MessageInfo{"s@x.test", {"r@y.test"}, "hi", "<n1@x>", "192.0.2.1", Direction::inbound, 1}};
  ASSERT_TRUE(stores->trace->append(std::span(&e, 1)));
  auto found = b->trace->search({.recipient = "r@*"});
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->items.size(), 1u);
  EXPECT_EQ(found->items[0].trace_id, "n1");
}

TEST_P(NodesSuite, QuarantinedOnOneNodeReleasedOnTheOtherExactlyOnce) {
  auto b = second_node();
  ASSERT_TRUE(b);
  QuarantineItem q;
  q.queue_id = "Q";
  q.reason = "spam";
  q.sender = "s@x.test";
  q.recipients = {"r@y.test"};
  q.raw = "Subject: x\r\n\r\nbody";
  q.created_at = kT0;
  q.expires_at = kT0 + 1;
  auto id = stores->quarantine->put(q);
  ASSERT_TRUE(id.has_value());
  // Both nodes release at the same moment: one wins, the other is told why.
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (Stores* node : {stores.get(), b.get(), stores.get(), b.get()})
    threads.emplace_back([&, node] {
      auto r = node->quarantine->release(*id, "admin", {});
      (r ? ok : refused)++;
      if (r) {
        EXPECT_EQ(r->raw, "Subject: x\r\n\r\nbody");
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ((*stores->quarantine->get(*id))->state, QuarantineState::released);
}

TEST_P(NodesSuite, SettingsWrittenOnOneNodeAreReadOnTheOther) {
  auto b = second_node();
  ASSERT_TRUE(b);
  ASSERT_TRUE(stores->settings->set("links.signing_key", "k1"));
  EXPECT_EQ(**b->settings->get("links.signing_key"), "k1");
}

INSTANTIATE_BACKENDS(NodesSuite);

}  // namespace
}  // namespace mailmoat::store::testing
