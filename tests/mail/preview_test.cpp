// The quarantine preview: what an administrator sees of a hostile message is
// decoded, bounded text; markup, scripts and styles never reach the output.
#include <gtest/gtest.h>

#include "mail/preview.h"

namespace mailmoat::mail {
namespace {

std::string find_header(const Preview& p, const std::string& name) {
  for (const auto& [n, v] : p.headers)
    if (n == name) return v;
  return "<absent>";
}

TEST(Preview, EncodedWordsAreDecodedAndControlCharactersDropped) {
  std::string m =
      "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <j@example.org>\r\n"
      "Subject: =?ISO-8859-1?B?Q2Fm6SBtZW51?= =?UTF-8?Q?_for_you?=\r\n"
      "X-Odd: a\x1b[31mred\r\n"
      "\r\n"
      "Hello\x07 there.\r\n";
  Preview p = preview_message(m);
  EXPECT_EQ(find_header(p, "From"), "J\xC3\xBCrgen M\xC3\xBCller <j@example.org>");
  EXPECT_EQ(find_header(p, "Subject"), "Caf\xC3\xA9 menu for you");
  EXPECT_EQ(find_header(p, "X-Odd"), "a[31mred");
  EXPECT_EQ(p.text, "Hello there.\n");
  EXPECT_TRUE(p.attachments.empty());
}

TEST(Preview, HtmlIsReducedToTextWithoutScriptsAndLinksShownAsText) {
  std::string m =
      "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
      "<html><head><title>t</title><style>p{color:red}</style></head><body>"
      "<script>alert('pwned')</script><p>Your <b>invoice</b></p>"
      "<a href=\"https://evil.example/login\">Sign in</a><img src=\"https://track.example/p.gif\" alt=\"logo\">"
      "</body></html>\r\n";
  Preview p = preview_message(m);
  EXPECT_TRUE(p.text.empty());
  EXPECT_EQ(p.html_as_text, "Your invoice\nSign in <https://evil.example/login>[image: logo]");
  EXPECT_EQ(p.html_as_text.find("alert"), std::string::npos);
  EXPECT_EQ(p.html_as_text.find("color"), std::string::npos);
  EXPECT_EQ(p.html_as_text.find("p.gif"), std::string::npos);
}

TEST(Preview, AttachmentsAreListedWithSizeAndSha256) {
  std::string m =
      "Subject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSee the files.\r\n"
      "--b\r\nContent-Type: text/html\r\n\r\n<p>See the <i>files</i>.</p>\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.scr\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"
      "--b--\r\n";
  Preview p = preview_message(m);
  EXPECT_EQ(p.text, "See the files.");
  EXPECT_EQ(p.html_as_text, "See the files.");
  ASSERT_EQ(p.attachments.size(), 1u);
  EXPECT_EQ(p.attachments[0].name, "r\xC3\xA9sum\xC3\xA9.scr");
  EXPECT_EQ(p.attachments[0].type, "application/octet-stream");
  EXPECT_EQ(p.attachments[0].size, 5u);  // "hello"
  EXPECT_EQ(p.attachments[0].sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

TEST(Preview, LimitsCutAndSayTheyDid) {
  std::string m = "Subject: big\r\n";
  for (int i = 0; i < 50; ++i) m += "X-N: " + std::to_string(i) + "\r\n";
  m += "\r\n" + std::string(5000, 'a') + "\r\n";
  PreviewLimits limits;
  limits.max_headers = 10;
  limits.max_text = 100;
  Preview p = preview_message(m, limits);
  EXPECT_EQ(p.headers.size(), 10u);
  EXPECT_EQ(p.text.size(), 100u);
  EXPECT_TRUE(p.truncated);
}

TEST(Preview, DeeplyNestedHtmlDoesNotExhaustTheStack) {
  std::string html;
  for (int i = 0; i < 5000; ++i) html += "<div>";
  html += "deep";
  EXPECT_EQ(html_to_text(html, 1000), "deep");
}

TEST(Preview, GarbageGivesAnEmptyPreviewNotACrash) {
  Preview p = preview_message(std::string("\0\xff\r\n\r\n--", 7));
  EXPECT_TRUE(p.attachments.empty());
}

}  // namespace
}  // namespace mailmoat::mail
