#include "smtp/protocol/command.h"

#include <gtest/gtest.h>

namespace mailmoat::smtp {
namespace {

Command ok(std::string_view line, bool utf8 = false) {
  auto r = parse_command(line, utf8);
  EXPECT_TRUE(std::holds_alternative<Command>(r)) << line << " -> " << std::get<Reply>(r).summary();
  return std::holds_alternative<Command>(r) ? std::get<Command>(r) : Command{};
}

Reply bad(std::string_view line, bool utf8 = false) {
  auto r = parse_command(line, utf8);
  EXPECT_TRUE(std::holds_alternative<Reply>(r)) << line;
  return std::holds_alternative<Reply>(r) ? std::get<Reply>(r) : Reply{};
}

}  // namespace

TEST(Command, VerbsAreCaseInsensitive) {
  EXPECT_EQ(ok("ehlo client.example").verb, Verb::ehlo);
  EXPECT_EQ(ok("Quit").verb, Verb::quit);
  EXPECT_EQ(bad("XYZZY").code, 500);
}

TEST(Command, MailFromWithParameters) {
  Command c = ok("MAIL FROM:<a@Example.COM> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef");
  EXPECT_EQ(c.path.address, "a@Example.COM");
  EXPECT_EQ(c.path.domain(), "example.com");
  EXPECT_EQ(c.mail.size, 1000u);
  EXPECT_EQ(c.mail.body, "8BITMIME");
  EXPECT_EQ(c.mail.ret, "HDRS");
  EXPECT_EQ(c.mail.envid, "abc+def");
}

TEST(Command, NullReversePathAndSpaceAfterColon) {
  EXPECT_EQ(ok("MAIL FROM:<>").path.address, "");
  EXPECT_EQ(ok("MAIL FROM: <a@b.example>").path.address, "a@b.example");
}

TEST(Command, SourceRouteIsDropped) { EXPECT_EQ(ok("RCPT TO:<@relay.example:u@d.example>").path.address, "u@d.example"); }

TEST(Command, QuotedLocalPartMayContainBracket) {
  EXPECT_EQ(ok("RCPT TO:<\"a>b\"@d.example>").path.address, "\"a>b\"@d.example");
}

TEST(Command, PostmasterWithoutDomainIsAccepted) { EXPECT_EQ(ok("RCPT TO:<Postmaster>").path.address, "Postmaster"); }

TEST(Command, RcptDsnParameters) {
  Command c = ok("RCPT TO:<u@d.example> NOTIFY=success,failure ORCPT=rfc822;u+40d.example");
  EXPECT_EQ(c.rcpt.notify, "SUCCESS,FAILURE");
  EXPECT_EQ(c.rcpt.orcpt, "rfc822;u@d.example");
  EXPECT_EQ(bad("RCPT TO:<u@d.example> NOTIFY=NEVER,DELAY").code, 501);
}

TEST(Command, NonAsciiNeedsSmtputf8) {
  EXPECT_EQ(bad("MAIL FROM:<j\xc3\xb6rg@example.de>").code, 553);
  EXPECT_TRUE(ok("MAIL FROM:<j\xc3\xb6rg@example.de> SMTPUTF8").mail.smtputf8);
  EXPECT_EQ(bad("RCPT TO:<j\xc3\xb6rg@example.de>").code, 553);
  EXPECT_EQ(ok("RCPT TO:<j\xc3\xb6rg@example.de>", true).path.address, "j\xc3\xb6rg@example.de");
}

TEST(Command, MalformedPathsAndParameters) {
  EXPECT_EQ(bad("MAIL FROM:<a@b.example").enhanced, "5.5.4");
  EXPECT_EQ(bad("MAIL <a@b.example>").code, 501);
  EXPECT_EQ(bad("RCPT TO:<>").code, 501);
  EXPECT_EQ(bad("RCPT TO:<nodomain>").code, 501);
  EXPECT_EQ(bad("MAIL FROM:<a@b..example>").code, 501);
  EXPECT_EQ(bad("MAIL FROM:<a@b.example> SIZE=abc").code, 501);
  EXPECT_EQ(bad("MAIL FROM:<a@b.example> BODY=BINARYMIME").code, 555);
  EXPECT_EQ(bad("MAIL FROM:<a@b.example> FOO=BAR").code, 555);
  EXPECT_EQ(bad(std::string_view("NOOP\0x", 6)).code, 500);
}

TEST(Command, Bdat) {
  Command c = ok("BDAT 1000 LAST");
  EXPECT_EQ(c.chunk_size, 1000u);
  EXPECT_TRUE(c.last_chunk);
  EXPECT_FALSE(ok("BDAT 5").last_chunk);
  EXPECT_EQ(bad("BDAT").code, 501);
  EXPECT_EQ(bad("BDAT -1").code, 501);
  EXPECT_EQ(bad("BDAT 5 FIRST").code, 501);
}

TEST(Command, XtextRejectsBadEscapes) {
  EXPECT_EQ(decode_xtext("a+2B"), "a+");
  EXPECT_FALSE(decode_xtext("a+2"));
  EXPECT_FALSE(decode_xtext("a+zz"));
  EXPECT_FALSE(decode_xtext("a=b"));
}

TEST(Reply, EnhancedCodeOnEveryLine) {
  Reply r;
  r.code = 550;
  r.enhanced = "5.7.1";
  r.lines = {"first", "second"};
  EXPECT_EQ(r.wire(), "550-5.7.1 first\r\n550 5.7.1 second\r\n");
}

}  // namespace mailmoat::smtp
