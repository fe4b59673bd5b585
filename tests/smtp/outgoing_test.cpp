// What the SMTP client sends for a message: dot-stuffing as pieces of the
// message (RFC 5321 §4.5.2), RFC 3461 xtext.
#include "smtp/protocol/outgoing.h"

#include <gtest/gtest.h>

namespace mailmoat::smtp {
namespace {

std::string joined(std::string_view message) {
  std::string out;
  for (auto piece : dot_stuffed(message)) out += piece;
  return out;
}

TEST(Outgoing, DotStuffingDoublesEveryLeadingDotAndEndsTheData) {
  EXPECT_EQ(joined("Subject: x\r\n\r\nbody\r\n"), "Subject: x\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(joined("A: 1\r\n\r\n.\r\n..two\r\nmid.dle\r\n.end"), "A: 1\r\n\r\n..\r\n...two\r\nmid.dle\r\n..end\r\n.\r\n");
  EXPECT_EQ(joined(".first line\r\n"), "..first line\r\n.\r\n");
  EXPECT_EQ(joined("no final line end"), "no final line end\r\n.\r\n");
  EXPECT_EQ(joined(""), "\r\n.\r\n");
  // A bare LF followed by a dot is a line start to a lenient reader: stuffed too.
  EXPECT_EQ(joined("a\n.b\r\n"), "a\n..b\r\n.\r\n");
}

TEST(Outgoing, DotStuffingPointsIntoTheMessageWithoutCopyingIt) {
  const std::string m = "Subject: x\r\n\r\n" + std::string(10000, 'a') + "\r\n";
  auto pieces = dot_stuffed(m);
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].data(), m.data());
  EXPECT_EQ(pieces[0].size(), m.size());
  EXPECT_EQ(pieces[1], ".\r\n");
}

TEST(Outgoing, XtextEncodesPlusEqualsAndNonPrintables) {
  EXPECT_EQ(xtext("rfc822;user@example.com"), "rfc822;user@example.com");
  EXPECT_EQ(xtext("a+b=c d\x7f"), "a+2Bb+3Dc+20d+7F");
}

}  // namespace
}  // namespace mailmoat::smtp
