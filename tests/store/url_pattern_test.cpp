// store.url parsing and redaction, wildcard translation, placeholder numbering.
#include <gtest/gtest.h>

#include "store/postgres/connection.h"
#include "store/sql/pattern.h"
#include "store/stores.h"
#include "store/url.h"

namespace mailmoat::store {
namespace {

TEST(StoreUrl, EmptyMeansSqliteInTheDataDirectory) {
  auto u = parse_store_url("", "/var/lib/mailmoat");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->kind, StoreUrl::Kind::sqlite);
  EXPECT_EQ(u->path, "/var/lib/mailmoat/mailmoat.db");
  EXPECT_EQ(parse_store_url("sqlite:/tmp/x.db", "")->path, "/tmp/x.db");
  EXPECT_FALSE(parse_store_url("sqlite:", "").has_value());
  EXPECT_FALSE(parse_store_url("mysql://a@b/c", "").has_value());
}

TEST(StoreUrl, PostgresqlPartsArePercentDecodedAndThePasswordRedacted) {
  auto u = parse_store_url("postgresql://mail%40moat:p%3Ass@db.internal:6543/trace", "");
  ASSERT_TRUE(u.has_value()) << u.error().message;
  EXPECT_EQ(u->kind, StoreUrl::Kind::postgresql);
  EXPECT_EQ(u->user, "mail@moat");
  EXPECT_EQ(u->password, "p:ss");
  EXPECT_EQ(u->host, "db.internal");
  EXPECT_EQ(u->port, 6543);
  EXPECT_EQ(u->database, "trace");
  EXPECT_EQ(u->redacted.find("p%3Ass"), std::string::npos);
  EXPECT_EQ(u->redacted, "postgresql://mail%40moat:***@db.internal:6543/trace");
  EXPECT_EQ(parse_store_url("postgresql://u@h/d", "")->port, 5432);
  EXPECT_FALSE(parse_store_url("postgresql://u@h:99999/d", "").has_value());
  EXPECT_FALSE(parse_store_url("postgresql://u@h", "").has_value());
}

TEST(StoreUrl, ErrorsNeverContainThePassword) {
  auto bad = parse_store_url("postgres-ql://u:hunter2@h/d", "");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message.find("hunter2"), std::string::npos);
  EXPECT_EQ(redact_url("x postgresql://u:hunter2@h:1/d y"), "x postgresql://u:***@h:1/d y");
  // Nothing listens on port 1: the connection error names the URL without the password.
  auto s = open("postgresql://u:hunter2@127.0.0.1:1/d", "");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message.find("hunter2"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("u:***@127.0.0.1:1/d"), std::string::npos) << s.error().message;
}

TEST(Wildcard, LikePatternEscapesMetacharacters) {
  EXPECT_EQ(sql::wildcard_to_like("a*b"), "a%b");
  EXPECT_EQ(sql::wildcard_to_like("100%_x\\*"), "100\\%\\_x\\\\%");
  EXPECT_EQ(sql::escape_like("%_\\"), "\\%\\_\\\\");
  EXPECT_EQ(sql::reversed("ab\xC3\xA9z"), "z\xC3\xA9" "ba");
}

TEST(Wildcard, PrefixAndSuffixBecomeIndexRanges) {
  std::string where;
  std::vector<sql::Value> p;
  sql::add_wildcard_match(where, p, "c", "r", "*@Example.com");
  EXPECT_EQ(where, " AND r >= ? AND r < ? AND c LIKE ? ESCAPE '\\'");
  EXPECT_EQ(std::get<std::string>(p[0]), "moc.elpmaxe@");
  where.clear();
  p.clear();
  sql::add_wildcard_match(where, p, "c", "r", "bob@x");
  EXPECT_EQ(where, " AND c = ?");
  EXPECT_EQ(std::get<std::string>(p[0]), "bob@x");
}

TEST(Placeholders, NumberedOutsideQuotes) {
  EXPECT_EQ(postgres::number_placeholders("a = ? AND b LIKE ? ESCAPE '\\' AND c = '?' AND d = ?"),
            "a = $1 AND b LIKE $2 ESCAPE '\\' AND c = '?' AND d = $3");
}

}  // namespace
}  // namespace mailmoat::store
