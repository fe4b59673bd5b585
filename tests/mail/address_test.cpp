#include "mail/address.h"

#include <gtest/gtest.h>

namespace mailmoat::mail {

TEST(Address, PlainAndNameAddr) {
  auto l = parse_mailbox_list(" John Q Doe <jqd@D1.Example.ORG.>");
  ASSERT_TRUE(l) << l.error().message;
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].local_part, "jqd");
  EXPECT_EQ((*l)[0].domain, "d1.example.org");
  l = parse_mailbox_list("joe@football.example.com");
  ASSERT_TRUE(l);
  EXPECT_EQ((*l)[0].domain, "football.example.com");
}

TEST(Address, CommentsAndQuotedStringsDoNotConfuse) {
  auto l = parse_mailbox_list("\"Evil, <x@attacker.example>\" (comment @ evil.example) <user@good.example>");
  ASSERT_TRUE(l) << l.error().message;
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].domain, "good.example");
  l = parse_mailbox_list("\"a@b\"@quoted.example (Joe)");
  ASSERT_TRUE(l);
  EXPECT_EQ((*l)[0].local_part, "a@b");
  EXPECT_EQ((*l)[0].domain, "quoted.example");
}

TEST(Address, GroupsRoutesAndLists) {
  auto l = parse_mailbox_list("Team: a@one.example, B <b@two.example>;, <@relay.example:c@three.example>");
  ASSERT_TRUE(l) << l.error().message;
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].domain, "one.example");
  EXPECT_EQ((*l)[1].domain, "two.example");
  EXPECT_EQ((*l)[2].domain, "three.example");
  EXPECT_TRUE(parse_mailbox_list("undisclosed-recipients:;")->empty());
}

TEST(Address, MalformedIsReported) {
  EXPECT_FALSE(parse_mailbox_list("no at sign"));
  EXPECT_FALSE(parse_mailbox_list("<a@b"));
  EXPECT_FALSE(parse_mailbox_list("\"open@quote.example"));
  EXPECT_FALSE(parse_mailbox_list("(open comment a@b.example"));
  EXPECT_FALSE(parse_mailbox_list("a@"));
  EXPECT_FALSE(parse_mailbox_list("a@b.example)"));  // found by fuzzing: once looped forever
}

TEST(Address, FromDomainStatuses) {
  auto ok = Message::parse("From: Joe <joe@Example.COM>\r\n\r\n");
  EXPECT_EQ(from_domain(*ok).status, FromStatus::ok);
  EXPECT_EQ(from_domain(*ok).domain, "example.com");
  auto none = Message::parse("To: a@b.example\r\n\r\n");
  EXPECT_EQ(from_domain(*none).status, FromStatus::missing);
  auto two = Message::parse("From: a@b.example\r\nFrom: c@d.example\r\n\r\n");
  EXPECT_EQ(from_domain(*two).status, FromStatus::several_fields);
  auto many = Message::parse("From: a@b.example, c@d.example\r\n\r\n");
  EXPECT_EQ(from_domain(*many).status, FromStatus::several_mailboxes);
  EXPECT_EQ(from_domain(*many).reason, "From with several mailboxes");
  auto bad = Message::parse("From: nobody\r\n\r\n");
  EXPECT_EQ(from_domain(*bad).status, FromStatus::unparsable);
}

}  // namespace mailmoat::mail
