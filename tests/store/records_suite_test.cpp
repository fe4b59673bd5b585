// The shared store suite, part 2: quarantine, clicks, DMARC rows, audit log,
// settings and schema migrations, on SQLite and PostgreSQL alike.
#include <gtest/gtest.h>

#include "store/sql/migrations.h"
#include "store_suite.h"

namespace mailmoat::store::testing {
namespace {

constexpr Micros kT0 = 1'790'000'000'000'000;
constexpr Micros kDay = 86'400'000'000;

QuarantineItem item(const std::string& sender, std::vector<std::string> rcpts, const std::string& reason,
                    Micros at) {
  QuarantineItem q;
  q.queue_id = "Q" + std::to_string(at);
  q.reason = reason;
  q.policy = "default-" + reason;
  q.sender = sender;
  q.recipients = std::move(rcpts);
  q.subject = "win a prize";
  q.created_at = at;
  q.expires_at = at + 30 * kDay;
  q.raw = std::string("Subject: x\r\n\r\nbody\0\xff\x80 end", 24);
  q.size = static_cast<std::int64_t>(q.raw.size());
  return q;
}

using QuarantineSuite = StoreSuite;

TEST_P(QuarantineSuite, PutGetKeepsTheMessageBytesExactly) {
  auto q = item("spam@bad.test", {"a@corp.test", "b@corp.test"}, "spam", kT0);
  auto id = stores->quarantine->put(q);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto got = stores->quarantine->get(*id);
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_EQ((*got)->raw, q.raw);
  EXPECT_EQ((*got)->recipients, q.recipients);
  EXPECT_EQ((*got)->state, QuarantineState::held);
  EXPECT_EQ((*got)->policy, "default-spam");
  EXPECT_EQ((*got)->expires_at, kT0 + 30 * kDay);
  EXPECT_FALSE(stores->quarantine->get(*id + 1000)->has_value());
}

TEST_P(QuarantineSuite, ListFiltersAndPages) {
  ASSERT_TRUE(stores->quarantine->put(item("spam@bad.test", {"a@corp.test"}, "spam", kT0)));
  ASSERT_TRUE(stores->quarantine->put(item("evil@bad.test", {"b@corp.test", "a@corp.test"}, "malware", kT0 + 1)));
  ASSERT_TRUE(stores->quarantine->put(item("x%_'@odd.test", {"c@other.test"}, "phish", kT0 + 2)));
  auto list = [&](QuarantineQuery q) {
    auto r = stores->quarantine->list(q);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    std::vector<std::string> senders;
    if (r)
      for (auto& i : r->items) {
        senders.push_back(i.sender);
        EXPECT_TRUE(i.raw.empty());  // lists do not carry message bytes
      }
    return senders;
  };
  EXPECT_EQ(list({}), (std::vector<std::string>{"x%_'@odd.test", "evil@bad.test", "spam@bad.test"}));
  EXPECT_EQ(list({.reason = "malware"}), std::vector<std::string>{"evil@bad.test"});
  EXPECT_EQ(list({.sender = "*@bad.test"}).size(), 2u);
  EXPECT_EQ(list({.sender = "x%_'*"}), std::vector<std::string>{"x%_'@odd.test"});
  EXPECT_EQ(list({.sender = "x__'*"}).size(), 0u);
  EXPECT_EQ(list({.recipient = "a@corp.test"}).size(), 2u);
  EXPECT_EQ(list({.recipient = "*@other.test"}).size(), 1u);
  EXPECT_EQ(list({.since = kT0 + 1}).size(), 2u);
  auto first = stores->quarantine->list({.limit = 2});
  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(first->next_cursor.empty());
  auto second = stores->quarantine->list({.limit = 2, .cursor = first->next_cursor});
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].sender, "spam@bad.test");
  EXPECT_TRUE(second->next_cursor.empty());
}

TEST_P(QuarantineSuite, ReleaseMarksAndReturnsTheItemOnce) {
  auto id = stores->quarantine->put(item("spam@bad.test", {"a@corp.test", "b@corp.test"}, "spam", kT0));
  ASSERT_TRUE(id.has_value());
  clock->set(kT0 + 60'000'000);
  auto released = stores->quarantine->release(*id, "admin@corp.test", {"B@corp.test"});
  ASSERT_TRUE(released.has_value()) << released.error().message;
  EXPECT_EQ(released->state, QuarantineState::released);
  EXPECT_EQ(released->raw.size(), 24u);
  EXPECT_EQ(released->released_to, std::vector<std::string>{"B@corp.test"});
  auto again = stores->quarantine->release(*id, "admin@corp.test", {});
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("already released"), std::string::npos);
  auto got = *stores->quarantine->get(*id);
  EXPECT_EQ(got->state, QuarantineState::released);
  EXPECT_EQ(got->state_changed_by, "admin@corp.test");
  EXPECT_EQ(got->state_changed_at, kT0 + 60'000'000);
  EXPECT_EQ(stores->quarantine->list({.state = QuarantineState::released})->items.size(), 1u);
}

TEST_P(QuarantineSuite, ReleaseRefusesStrangersAndUnknownIds) {
  auto id = stores->quarantine->put(item("spam@bad.test", {"a@corp.test"}, "spam", kT0));
  ASSERT_TRUE(id.has_value());
  EXPECT_FALSE(stores->quarantine->release(*id, "admin", {"mallory@evil.test"}).has_value());
  EXPECT_EQ((*stores->quarantine->get(*id))->state, QuarantineState::held);
  EXPECT_FALSE(stores->quarantine->release(*id + 99, "admin", {}).has_value());
  auto all = stores->quarantine->release(*id, "admin", {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->released_to, std::vector<std::string>{"a@corp.test"});
}

TEST_P(QuarantineSuite, DeleteDropsTheMessageAndCannotBeRepeated) {
  auto id = stores->quarantine->put(item("spam@bad.test", {"a@corp.test"}, "spam", kT0));
  ASSERT_TRUE(id.has_value());
  ASSERT_TRUE(stores->quarantine->remove(*id, "admin").has_value());
  auto got = *stores->quarantine->get(*id);
  EXPECT_EQ(got->state, QuarantineState::deleted);
  EXPECT_TRUE(got->raw.empty());
  EXPECT_FALSE(stores->quarantine->remove(*id, "admin").has_value());
  EXPECT_FALSE(stores->quarantine->release(*id, "admin", {}).has_value());
}

TEST_P(QuarantineSuite, PurgeExpiredRemovesOnlyExpiredItems) {
  auto old_id = stores->quarantine->put(item("a@bad.test", {"a@corp.test"}, "spam", kT0));
  auto new_id = stores->quarantine->put(item("b@bad.test", {"a@corp.test"}, "spam", kT0 + 10 * kDay));
  ASSERT_TRUE(old_id && new_id);
  auto n = stores->quarantine->purge_expired(kT0 + 31 * kDay);
  ASSERT_TRUE(n.has_value()) << n.error().message;
  EXPECT_EQ(*n, 1);
  EXPECT_FALSE(stores->quarantine->get(*old_id)->has_value());
  EXPECT_TRUE(stores->quarantine->get(*new_id)->has_value());
  EXPECT_EQ(stores->quarantine->list({.recipient = "a@corp.test"})->items.size(), 1u);
}

TEST_P(QuarantineSuite, SpoolPathInsteadOfBytes) {
  auto q = item("a@bad.test", {"a@corp.test"}, "malware", kT0);
  q.raw.clear();
  q.spool_path = "/var/lib/mailmoat/quarantine/0001.eml.gz";
  auto id = stores->quarantine->put(q);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ((*stores->quarantine->get(*id))->spool_path, q.spool_path);
}

using ClickSuite = StoreSuite;

TEST_P(ClickSuite, SearchByRecipientUrlAndTime) {
  auto click = [&](const std::string& rcpt, const std::string& url, Micros at, ClickAction a) {
    ClickRecord k{0, at, rcpt, "<m@x>", url, "malicious", {"phish-list", "new domain"}, a, "198.51.100.4", "Mozilla/5.0"};
    ASSERT_TRUE(stores->clicks->add(k).has_value());
  };
  click("a@corp.test", "https://evil.test/login?x=100%_off", kT0, ClickAction::blocked);
  click("b@corp.test", "https://ok.test/", kT0 + 10, ClickAction::allowed);
  click("a@corp.test", "https://EVIL.test/other", kT0 + 20, ClickAction::clicked_through);
  auto r = stores->clicks->search({.recipient = "a@corp.test"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->items.size(), 2u);
  EXPECT_EQ(r->items[0].action, ClickAction::clicked_through);
  EXPECT_EQ(r->items[1].reasons, (std::vector<std::string>{"phish-list", "new domain"}));
  EXPECT_EQ(r->items[1].user_agent, "Mozilla/5.0");
  EXPECT_EQ(stores->clicks->search({.url_contains = "evil.test"})->items.size(), 2u);
  EXPECT_EQ(stores->clicks->search({.url_contains = "100%_"})->items.size(), 1u);
  EXPECT_EQ(stores->clicks->search({.url_contains = "%"})->items.size(), 1u);
  EXPECT_EQ(stores->clicks->search({.recipient = "*@corp.test", .since = kT0 + 10})->items.size(), 2u);
  auto page = stores->clicks->search({.limit = 2});
  ASSERT_FALSE(page->next_cursor.empty());
  EXPECT_EQ(stores->clicks->search({.limit = 2, .cursor = page->next_cursor})->items.size(), 1u);
  EXPECT_EQ(*stores->clicks->purge(kT0 + 15), 2);
}

TEST_P(ClickSuite, AddAllWritesEveryClickOfTheBatch) {
  std::vector<ClickRecord> batch;
  for (int i = 0; i < 250; ++i)
    batch.push_back({0, kT0 + i, "r" + std::to_string(i) + "@corp.test", "<m@x>", "https://ok.test/" + std::to_string(i),
                     "allowed", {}, ClickAction::allowed, "198.51.100.4", "Mozilla/5.0"});
  ASSERT_TRUE(stores->clicks->add_all(batch).has_value());
  ASSERT_TRUE(stores->clicks->add_all({}).has_value());
  auto all = stores->clicks->search({.limit = 1000});
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->items.size(), 250u);
  EXPECT_EQ(all->items.front().recipient, "r249@corp.test");  // newest first
  EXPECT_EQ(stores->clicks->search({.recipient = "r7@corp.test"})->items.at(0).url, "https://ok.test/7");
}

using RecordsSuite = StoreSuite;

TEST_P(RecordsSuite, DmarcRowsAreCountedPerDay) {
  DmarcRow row{20000, "192.0.2.1", "Example.COM", "example.com", "example.com", "pass", "example.com", "s1",
               "pass", "none", "pass", "pass", 1};
  ASSERT_TRUE(stores->dmarc->add(row).has_value());
  ASSERT_TRUE(stores->dmarc->add(row).has_value());
  DmarcRow other = row;
  other.source_ip = "203.0.113.9";
  other.dkim_result = "fail";
  other.disposition = "quarantine";
  other.count = 5;
  ASSERT_TRUE(stores->dmarc->add(other).has_value());
  DmarcRow next_day = row;
  next_day.day = 20001;
  next_day.header_from = "other.test";
  ASSERT_TRUE(stores->dmarc->add(next_day).has_value());
  EXPECT_EQ(*stores->dmarc->domains(20000, 20000), std::vector<std::string>{"example.com"});
  EXPECT_EQ(*stores->dmarc->domains(20000, 20001), (std::vector<std::string>{"example.com", "other.test"}));
  auto rows = stores->dmarc->rows("example.com", 20000, 20000);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].source_ip, "192.0.2.1");
  EXPECT_EQ((*rows)[0].count, 2);
  EXPECT_EQ((*rows)[1].count, 5);
  EXPECT_EQ((*rows)[1].disposition, "quarantine");
  EXPECT_EQ(*stores->dmarc->purge(20001), 2);
  EXPECT_FALSE(stores->dmarc->add(DmarcRow{.count = 0}).has_value());
}

TEST_P(RecordsSuite, TlsRptResultsAreCountedPerDayAndPolicyDomain) {
  TlsRptRow ok{20000, "Example.NET", "tlsa", "3 1 1 ab", "", "", "192.0.2.1", "mx.example.net", "198.51.100.2", "", 1};
  ASSERT_TRUE(stores->tlsrpt->add(ok).has_value());
  ASSERT_TRUE(stores->tlsrpt->add(ok).has_value());
  TlsRptRow failed = ok;
  failed.result_type = "validation-failure";
  failed.reason = "no TLSA record matched: it's \"bad\"";
  failed.count = 3;
  ASSERT_TRUE(stores->tlsrpt->add(failed).has_value());
  TlsRptRow other = ok;
  other.day = 20001;
  other.policy_domain = "example.org";
  other.policy_type = "no-policy-found";
  ASSERT_TRUE(stores->tlsrpt->add(other).has_value());
  EXPECT_EQ(*stores->tlsrpt->domains(20000), std::vector<std::string>{"example.net"});
  EXPECT_EQ(*stores->tlsrpt->domains(20001), std::vector<std::string>{"example.org"});
  auto rows = stores->tlsrpt->rows("example.net", 20000);
  ASSERT_TRUE(rows.has_value());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].result_type, "");
  EXPECT_EQ((*rows)[0].count, 2);
  EXPECT_EQ((*rows)[1].result_type, "validation-failure");
  EXPECT_EQ((*rows)[1].reason, "no TLSA record matched: it's \"bad\"");
  EXPECT_EQ((*rows)[1].count, 3);
  EXPECT_EQ(*stores->tlsrpt->purge(20001), 2);
  EXPECT_FALSE(stores->tlsrpt->add(TlsRptRow{.policy_domain = "x.test", .count = 0}).has_value());
}

TEST_P(RecordsSuite, AuditLogIsNewestFirstWithTheClockTime) {
  ASSERT_TRUE(stores->audit->append({0, 0, "admin", "quarantine.release", "42", "{}"}).has_value());
  clock->set(kT0 + 5);
  ASSERT_TRUE(stores->audit->append({0, 0, "viewer'; --", "trace.search", "sender=a%", ""}).has_value());
  auto list = stores->audit->list(0, 10);
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].actor, "viewer'; --");
  EXPECT_EQ((*list)[0].at, kT0 + 5);
  EXPECT_EQ((*list)[1].action, "quarantine.release");
  EXPECT_EQ(stores->audit->list(kT0 + 1, 10)->size(), 1u);
}

TEST_P(RecordsSuite, SettingsSetGetOverwriteErase) {
  EXPECT_FALSE(stores->settings->get("links.key")->has_value());
  ASSERT_TRUE(stores->settings->set("links.key", "abc"));
  ASSERT_TRUE(stores->settings->set("links.key", "it's 100%"));
  ASSERT_TRUE(stores->settings->set("a", ""));
  EXPECT_EQ(**stores->settings->get("links.key"), "it's 100%");
  EXPECT_EQ(stores->settings->all()->size(), 2u);
  // claim: only the first caller gets the key; the value is not overwritten.
  EXPECT_TRUE(*stores->settings->claim("digest_claim:20000", "node-a"));
  EXPECT_FALSE(*stores->settings->claim("digest_claim:20000", "node-b"));
  EXPECT_EQ(**stores->settings->get("digest_claim:20000"), "node-a");
  ASSERT_TRUE(stores->settings->erase("digest_claim:20000"));
  ASSERT_TRUE(stores->settings->erase("links.key"));
  EXPECT_FALSE(stores->settings->get("links.key")->has_value());
  EXPECT_EQ(**stores->settings->get("a"), "");
}

using MigrationSuite = StoreSuite;

TEST_P(MigrationSuite, EmptyDatabaseIsMigratedToTheLatestVersion) {
  auto c = raw_connection(db.url);
  ASSERT_TRUE(c);
  EXPECT_EQ(*sql::schema_version(*c), sql::latest_schema_version());
  EXPECT_EQ(sql::latest_schema_version(), 4);
  // Opening again applies nothing and keeps one row per version.
  stores.reset();
  auto again = open(db.url, db.data_dir, clock);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  auto rows = c->query("SELECT COUNT(*) FROM schema_version", {});
  EXPECT_EQ(rows->at(0).integer(0), 4);
}

TEST_P(MigrationSuite, DatabaseAtVersionOneIsUpgradedWithItsData) {
  stores.reset();
  FreshDatabase old = fresh_database(GetParam());
  auto c = raw_connection(old.url);
  ASSERT_TRUE(c);
  ASSERT_EQ(*sql::migrate(*c, 1), 1);
  // Version 1 data written as a version-1 gateway would have written it.
  ASSERT_TRUE(c->exec(
      "INSERT INTO trace_records (trace_id, recipient, recipient_lc, recipient_rev, sender, sender_lc, sender_rev, "
      "subject, subject_lc, message_id, client_ip, direction, status, size, received_at, updated_at) VALUES "
      "('v1', 'r@y.test', 'r@y.test', 'tset.y@r', 's@x.test', 's@x.test', 'tset.x@s', 'Old', 'old', '<v1@x>', "
      "'192.0.2.1', 'inbound', 'delivered', 10, 5, 5)",
      {}));
  ASSERT_TRUE(c->exec("INSERT INTO settings (key, value) VALUES ('k', 'v')", {}));
  EXPECT_FALSE(c->query("SELECT COUNT(*) FROM clicks", {}).has_value());  // not there yet
  c.reset();
  auto s = open(old.url, old.data_dir, clock);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto page = (*s)->trace->search({.recipient = "*@y.test"});
  ASSERT_TRUE(page.has_value());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].status, TraceStatus::delivered);
  EXPECT_EQ(**(*s)->settings->get("k"), "v");
  EXPECT_TRUE((*s)->clicks->add({0, kT0, "r@y.test", "", "https://x.test/", "clean", {}, ClickAction::allowed, "", ""}));
  auto c2 = raw_connection(old.url);
  EXPECT_EQ(*sql::schema_version(*c2), sql::latest_schema_version());
  std::error_code ec;
  std::filesystem::remove_all(old.data_dir, ec);
}

// The previous version (2) kept quarantined messages uncompressed; after the
// upgrade those rows read back unchanged and new ones are compressed.
TEST_P(MigrationSuite, DatabaseAtThePreviousVersionIsUpgradedWithItsData) {
  stores.reset();
  FreshDatabase old = fresh_database(GetParam());
  auto c = raw_connection(old.url);
  ASSERT_TRUE(c);
  ASSERT_EQ(*sql::migrate(*c, 2), 2);
  const std::string raw = std::string("Subject: old\r\n\r\nkept as is") + '\0' + "\xfe";
  auto ins = c->query(
      "INSERT INTO quarantine (queue_id, reason, policy, sender, sender_lc, sender_rev, recipients, subject, size, "
      "created_at, expires_at, raw, spool_path, state, state_changed_at, state_changed_by, released_to) VALUES "
      "('Q1', 'spam', 'p', 's@x.test', 's@x.test', 'tset.x@s', 'r@y.test', 'old', 31, 1, ?, ?, '', 'held', 1, '', '') "
      "RETURNING id",
      {sql::Value{kT0 + kDay}, sql::Value{sql::Blob{raw}}});
  ASSERT_TRUE(ins.has_value()) << ins.error().message;
  std::int64_t old_id = ins->at(0).integer(0);
  ASSERT_TRUE(c->exec("INSERT INTO quarantine_recipients (item_id, recipient_lc, recipient_rev) VALUES (?, 'r@y.test', 'tset.y@r')",
                      {sql::Value{old_id}}));
  ASSERT_TRUE(c->query("INSERT INTO clicks (at, recipient, recipient_lc, recipient_rev, message_id, url, url_lc, verdict, "
                       "reasons, action, client_ip, user_agent) VALUES (5, 'r@y.test', 'r@y.test', 'tset.y@r', '', "
                       "'https://a.test/', 'https://a.test/', 'clean', '', 'allowed', '', '') RETURNING id", {}));
  c.reset();
  auto s = open(old.url, old.data_dir, clock);
  ASSERT_TRUE(s.has_value()) << s.error().message;
  auto got = (*s)->quarantine->get(old_id);
  ASSERT_TRUE(got.has_value() && got->has_value()) << (got ? "" : got.error().message);
  EXPECT_EQ((*got)->raw, raw);
  auto released = (*s)->quarantine->release(old_id, "admin", {});
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(released->raw, raw);
  EXPECT_EQ((*s)->quarantine->list({.recipient = "r@y.test"})->items.size(), 1u);
  EXPECT_EQ((*s)->clicks->search({.recipient = "*@y.test"})->items.size(), 1u);
  std::string big(200000, 'a');
  auto new_id = (*s)->quarantine->put(item("n@x.test", {"r@y.test"}, "spam", kT0));
  ASSERT_TRUE(new_id.has_value());
  QuarantineItem large = item("n@x.test", {"r@y.test"}, "bulk", kT0);
  large.raw = big;
  auto large_id = (*s)->quarantine->put(large);
  ASSERT_TRUE(large_id.has_value());
  EXPECT_EQ((**(*s)->quarantine->get(*large_id)).raw, big);
  auto c2 = raw_connection(old.url);
  auto stored = c2->query("SELECT raw_encoding, LENGTH(raw) FROM quarantine WHERE id = ?", {sql::Value{*large_id}});
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->at(0).text(0), "deflate");
  EXPECT_LT(stored->at(0).integer(1), 2000);  // kept compressed
  EXPECT_EQ(*sql::schema_version(*c2), sql::latest_schema_version());
  std::error_code ec;
  std::filesystem::remove_all(old.data_dir, ec);
}

INSTANTIATE_BACKENDS(QuarantineSuite);
INSTANTIATE_BACKENDS(ClickSuite);
INSTANTIATE_BACKENDS(RecordsSuite);
INSTANTIATE_BACKENDS(MigrationSuite);

}  // namespace
}  // namespace mailmoat::store::testing
