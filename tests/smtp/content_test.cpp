#include "smtp/protocol/content.h"

#include <gtest/gtest.h>

namespace mailmoat::smtp {
namespace {

struct Fed {
  ContentReader::Status status;
  std::size_t consumed;
  std::string message;
  std::optional<Reply> limit;
  Reply protocol;
};

Fed feed_data(std::string_view input, ContentLimits limits = {}, std::size_t chunk = 0) {
  ContentReader r(ContentReader::Mode::data, limits);
  std::size_t used = 0;
  if (chunk == 0) chunk = input.size();
  while (used < input.size() && r.status() == ContentReader::Status::need_more)
    used += r.consume(input.substr(used, chunk));
  return {r.status(), used, r.take_message(), r.limit_reply(), r.protocol_reply()};
}

}  // namespace

TEST(Content, EndsAtCrLfDotCrLfAndLeavesPipelinedCommands) {
  std::string in = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  Fed f = feed_data(in);
  EXPECT_EQ(f.status, ContentReader::Status::complete);
  EXPECT_EQ(f.message, "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(in.substr(f.consumed), "QUIT\r\n");
}

TEST(Content, DotStuffingIsRemoved) {
  Fed f = feed_data("a\r\n..b\r\n...\r\n.\r\n");
  EXPECT_EQ(f.message, "a\r\n.b\r\n..\r\n");
}

TEST(Content, WorksOneByteAtATime) {
  std::string in = "H: v\r\n\r\n.x\r\nline\r\n.\r\nNOOP";
  Fed f = feed_data(in, {}, 1);
  EXPECT_EQ(f.status, ContentReader::Status::complete);
  EXPECT_EQ(f.message, "H: v\r\n\r\nx\r\nline\r\n");
  EXPECT_EQ(in.substr(f.consumed), "NOOP");
}

// The SMTP smuggling variants (SEC Consult, CVE-2023-51764/5/6): every
// end-of-data look-alike other than <CR><LF>.<CR><LF> is a protocol error,
// so no second message can be smuggled inside the first.
class Smuggling : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(Smuggling, IsRejectedAsBareLineEnding) {
  std::string in = std::string("Subject: a\r\n\r\nfirst") + GetParam().second +
                   "MAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n.\r\n";
  Fed f = feed_data(in);
  EXPECT_EQ(f.status, ContentReader::Status::protocol_error) << GetParam().first;
  EXPECT_EQ(f.protocol.code, 554);
  EXPECT_EQ(f.protocol.enhanced, "5.5.2");
}

INSTANTIATE_TEST_SUITE_P(
    SecConsultVariants, Smuggling,
    ::testing::Values(std::pair{"LF_dot_LF", "\n.\n"}, std::pair{"LF_dot_CRLF", "\n.\r\n"},
                      std::pair{"CR_dot_CR", "\r.\r"}, std::pair{"CRLF_dot_LF", "\r\n.\n"},
                      std::pair{"LF_dot_CR", "\n.\r"}, std::pair{"CR_dot_CRLF", "\r.\r\n"},
                      std::pair{"CRLF_dot_CR", "\r\n.\r"}, std::pair{"CR_dot_LF", "\r.\n"},
                      std::pair{"bare_LF_line", "\nx\r\n.\r\n"}, std::pair{"bare_CR_line", "\rx\r\n.\r\n"}),
    [](const auto& info) { return std::string(info.param.first); });

TEST(Content, NormalizeModeAcceptsBareLfForTrustedRelays) {
  ContentLimits l;
  l.line_endings = LineEndings::normalize_lf;
  Fed f = feed_data("a\nb\r\n.\r\n", l);
  EXPECT_EQ(f.status, ContentReader::Status::complete);
  EXPECT_EQ(f.message, "a\r\nb\r\n");
  Fed cr = feed_data("a\rb\r\n.\r\n", l);
  EXPECT_EQ(cr.status, ContentReader::Status::protocol_error);  // bare CR is never normalized
}

TEST(Content, SizeLimitIsReportedAtTheEndNotCut) {
  ContentLimits l;
  l.max_message_size = 10;
  Fed f = feed_data("0123456789abcdef\r\n.\r\n", l);
  EXPECT_EQ(f.status, ContentReader::Status::complete);
  ASSERT_TRUE(f.limit);
  EXPECT_EQ(f.limit->code, 552);
  EXPECT_EQ(f.limit->enhanced, "5.3.4");
}

TEST(Content, LongLineIsRejectedByDefault) {
  std::string line(999, 'x');
  Fed f = feed_data("H: v\r\n\r\n" + line + "\r\n.\r\n");
  ASSERT_TRUE(f.limit);
  EXPECT_EQ(f.limit->code, 554);
  EXPECT_EQ(f.limit->enhanced, "5.6.0");
  Fed exact = feed_data("H: v\r\n\r\n" + std::string(998, 'x') + "\r\n.\r\n");
  EXPECT_FALSE(exact.limit);
}

TEST(Content, LongLinesAreWrappedWhenConfiguredAndNothingIsLost) {
  ContentLimits l;
  l.long_lines = LongLines::wrap;
  l.max_line_length = 10;
  Fed f = feed_data("Subject: 0123456789\r\n\r\nabcdefghijKLMNO\r\n.\r\n", l);
  EXPECT_FALSE(f.limit);
  EXPECT_EQ(f.message, "Subject: 0\r\n 123456789\r\n\r\nabcdefghij\r\nKLMNO\r\n");
}

TEST(Content, HeaderSectionLimit) {
  ContentLimits l;
  l.max_header_size = 20;
  Fed f = feed_data("A: 0123456789\r\nB: 0123456789\r\n\r\nbody\r\n.\r\n", l);
  ASSERT_TRUE(f.limit);
  EXPECT_EQ(f.limit->code, 552);
  Fed body_ok = feed_data("A: 1\r\n\r\n0123456789012345678901234567890\r\n.\r\n", l);
  EXPECT_FALSE(body_ok.limit);
}

TEST(Content, BdatTakesBytesVerbatimAndClosesTheLastLine) {
  ContentReader r(ContentReader::Mode::bdat, {});
  EXPECT_EQ(r.consume("Subject: x\r\n\r\n.dot stays\r\n.\r\nno"), 31u);
  r.finish_bdat();
  EXPECT_EQ(r.status(), ContentReader::Status::complete);
  EXPECT_EQ(r.take_message(), "Subject: x\r\n\r\n.dot stays\r\n.\r\nno\r\n");
}

TEST(Content, BdatRejectsBareLineEndingsToo) {
  ContentReader r(ContentReader::Mode::bdat, {});
  r.consume("a\r\nb\n.\nMAIL FROM:<x@y>\r\n");
  EXPECT_EQ(r.status(), ContentReader::Status::protocol_error);
}

}  // namespace mailmoat::smtp
