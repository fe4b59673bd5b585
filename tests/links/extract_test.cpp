// Where links are found in plain text and HTML, and what is left alone.
#include "links/extract.h"

#include <gtest/gtest.h>

namespace mailmoat::links {
namespace {

std::vector<std::string> urls(const std::vector<UrlSite>& sites) {
  std::vector<std::string> out;
  for (const auto& s : sites) out.push_back(s.url);
  return out;
}

TEST(TextUrls, FindsSchemesAndWwwWithoutTrailingPunctuation) {
  std::string text = "See http://a.example/x. Or (https://b.example/p_(1)), www.c.example/q?x=1, and "
                     "<http://d.example/>!\r\nnot: mailto:x@www.e.example, foo.http://no";
  auto sites = find_text_urls(text);
  EXPECT_EQ(urls(sites), (std::vector<std::string>{"http://a.example/x", "https://b.example/p_(1)",
                                                   "http://www.c.example/q?x=1", "http://d.example/"}));
  EXPECT_EQ(text.substr(sites[2].offset, sites[2].length), "www.c.example/q?x=1");
}

TEST(TextUrls, IgnoresBareSchemes) { EXPECT_TRUE(find_text_urls("http:// and www. alone").empty()); }

TEST(HtmlUrls, OnlyLinkAttributesWithOffsetsOfTheRawValue) {
  std::string html = "<p><a class=x href='http://a.example/?a=1&amp;b=2'>a</a>"
                     "<area href=HTTPS://b.example/>"
                     "<form action=\"http://c.example/post\"></form>"
                     "<img src=\"http://img.example/1.png\">"
                     "<a href=\"mailto:x@y\">m</a><a href=\"tel:+1\">t</a><a href=\"cid:1\">c</a>"
                     "<a href=\"data:text/html,hi\">d</a><a href=\"#top\">f</a><a href=\"javascript:x()\">j</a>";
  auto scan = find_html_urls(html, {});
  ASSERT_EQ(urls(scan.sites), (std::vector<std::string>{"http://a.example/?a=1&b=2", "HTTPS://b.example/",
                                                        "http://c.example/post"}));
  EXPECT_EQ(html.substr(scan.sites[0].offset, scan.sites[0].length), "'http://a.example/?a=1&amp;b=2'");
  EXPECT_EQ(html.substr(scan.sites[1].offset, scan.sites[1].length), "HTTPS://b.example/");
  auto with_images = find_html_urls(html, {true});
  EXPECT_EQ(with_images.sites.size(), 4u);
}

TEST(HtmlUrls, ResolvesAgainstBaseHref) {
  std::string html = "<html><head><base href=\"https://news.example/issue/7/\"></head>"
                     "<body><a href=\"story.html\">s</a><a href=\"/top\">t</a><a href=\"//cdn.example/x\">c</a></body>";
  auto scan = find_html_urls(html, {});
  EXPECT_EQ(urls(scan.sites), (std::vector<std::string>{"https://news.example/issue/7/story.html",
                                                        "https://news.example/top", "https://cdn.example/x"}));
  auto no_base = find_html_urls("<a href=\"story.html\">s</a>", {});
  EXPECT_TRUE(no_base.sites.empty());
  EXPECT_EQ(no_base.skipped_relative, 1u);
  // A scheme-relative link opens on https in a webmail: without a usable base it is
  // still a link to rewrite (found while reading a differential fuzz finding).
  auto scheme_relative = find_html_urls("<a href=\"//evil.example/x\">e</a><a href=\"/local\">l</a>", {});
  EXPECT_EQ(urls(scheme_relative.sites), std::vector<std::string>{"https://evil.example/x"});
  EXPECT_EQ(scheme_relative.skipped_relative, 1u);
  auto bad_base = find_html_urls("<base href=\"http:// a\"><a href=\"//evil.example/x\">e</a>", {});
  EXPECT_EQ(urls(bad_base.sites), std::vector<std::string>{"https://evil.example/x"});
}

// Found by the differential fuzz target: inside <select> the tree builder ignores
// <noframes>, <style>, <xmp>, <iframe>, <noembed>, <title> and <plaintext>, so they
// switch the tokenizer to nothing and the link after </select> is a link a mail
// client shows (read as raw text, it would have escaped rewriting). <textarea>
// closes the select and is RCDATA as usual; a second <select> closes it too.
TEST(HtmlUrls, TagsIgnoredInsideSelectDoNotHideLaterLinks) {
  for (const char* tag : {"noframes", "style", "xmp", "iframe", "noembed", "title", "plaintext"}) {
    std::string html = std::string("<select><") + tag + "></select><a href=\"http://evil.example/\">x</a>";
    EXPECT_EQ(urls(find_html_urls(html, {}).sites), std::vector<std::string>{"http://evil.example/"}) << tag;
  }
  EXPECT_TRUE(find_html_urls("<select><textarea><a href=\"http://t.example/\"></select>", {}).sites.empty());
  EXPECT_TRUE(find_html_urls("<select></select><noframes><a href=\"http://n.example/\">", {}).sites.empty());
  EXPECT_TRUE(find_html_urls("<select><select><noframes><a href=\"http://n.example/\">", {}).sites.empty());
}

TEST(HtmlUrls, SurvivesMalformedAndDeepHtml) {
  std::string html = "<a href=http://a.example/ <b><a href=\"http://b.example/";  // unclosed everything
  auto scan = find_html_urls(html, {});
  EXPECT_FALSE(scan.sites.empty());
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<div>";
  deep += "<a href=\"http://deep.example/\">x</a>";
  EXPECT_EQ(urls(find_html_urls(deep, {}).sites), std::vector<std::string>{"http://deep.example/"});
}

}  // namespace
}  // namespace mailmoat::links
