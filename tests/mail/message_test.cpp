#include "mail/message.h"

#include <gtest/gtest.h>

namespace mailmoat::mail {

TEST(Message, SplitsFieldsKeepingFoldingAndOffsets) {
  std::string text = "From: a@example.com\r\nSubject: hello\r\n  world\r\nTo:  b@example.org \r\n\r\nBody\r\n";
  auto m = Message::parse(text);
  ASSERT_TRUE(m) << m.error().message;
  ASSERT_EQ(m->fields().size(), 3u);
  EXPECT_EQ(m->fields()[1].name, "Subject");
  EXPECT_EQ(m->fields()[1].value, " hello\r\n  world");
  EXPECT_EQ(m->fields()[1].raw, "Subject: hello\r\n  world");
  EXPECT_EQ(m->fields()[1].offset, text.find("Subject"));
  EXPECT_EQ(m->fields()[2].value, "  b@example.org ");
  EXPECT_EQ(m->body(), "Body\r\n");
  EXPECT_TRUE(m->has_separator());
}

TEST(Message, LookupIsCaseInsensitiveInOrder) {
  std::string text = "Received: one\r\nreceived: two\r\nFrom: x@y\r\n\r\n";
  auto m = Message::parse(text);
  ASSERT_TRUE(m);
  auto all = m->find_all("RECEIVED");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]->value, " one");
  EXPECT_EQ(all[1]->value, " two");
  EXPECT_EQ(m->count("from"), 1u);
  EXPECT_EQ(m->find_first("Subject"), nullptr);
  EXPECT_EQ(m->body(), "");
}

TEST(Message, NameWithSpaceBeforeColonIsTrimmed) {
  auto m = Message::parse("Subject  : hi\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->fields()[0].name, "Subject");
  EXPECT_EQ(m->fields()[0].raw, "Subject  : hi");
}

TEST(Message, NoSeparatorMeansNoBody) {
  auto m = Message::parse("A: 1\r\nB: 2\r\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->fields().size(), 2u);
  EXPECT_FALSE(m->has_separator());
  EXPECT_EQ(m->body(), "");
}

TEST(Message, NoHeadersOnlyBody) {
  auto m = Message::parse("\r\nHey gang\r\n");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->fields().empty());
  EXPECT_EQ(m->body(), "Hey gang\r\n");
  EXPECT_TRUE(Message::parse("")->fields().empty());
}

TEST(Message, MalformedHeaderLinesAreRejectedWithOffset) {
  auto m = Message::parse("From: a@b\r\nthis is not a field\r\n\r\n");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("offset 11"), std::string::npos) << m.error().message;
  EXPECT_FALSE(Message::parse(" leading continuation\r\n\r\n"));
  EXPECT_FALSE(Message::parse(": empty name\r\n\r\n"));
}

TEST(Message, LimitsAreEnforced) {
  std::string many;
  for (int i = 0; i < 50; ++i) many += "X-A: b\r\n";
  Limits limits;
  limits.max_fields = 10;
  auto m = Message::parse(many + "\r\n", limits);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("limit"), std::string::npos);
  limits = Limits{};
  limits.max_header_bytes = 100;
  std::string big = "Subject: " + std::string(200, 'x') + "\r\n\r\n";
  EXPECT_FALSE(Message::parse(big, limits));
}

TEST(Message, LineEndingNormalization) {
  EXPECT_TRUE(needs_normalization("a\nb"));
  EXPECT_FALSE(needs_normalization("a\r\nb"));
  EXPECT_EQ(normalize_line_endings("A: 1\n\nbody\nx\r\ny\r"), "A: 1\r\n\r\nbody\r\nx\r\ny\r");
  std::string norm = normalize_line_endings("Subject: a\n b\n\nhi\n");
  auto m = Message::parse(norm);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->fields()[0].value, " a\r\n b");
  EXPECT_EQ(m->body(), "hi\r\n");
}

}  // namespace mailmoat::mail
