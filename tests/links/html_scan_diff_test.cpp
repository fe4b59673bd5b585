// Differential test: mailmoat's streaming HTML scanner (src/links/html_scan.cpp)
// against the gumbo tree builder it replaced (gumbo_oracle.cpp), on every HTML
// part of the links corpus, the fuzz corpora and hand-made tricky cases. Both
// must report the same sites (offsets, lengths, URLs) and the same number of
// skipped relative links. Where they differ on purpose, the case is listed in
// IntendedDifferences with the HTML standard's reason and the scanner's answer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gumbo_oracle.h"
#include "gumbo_terms.h"
#include "links/extract.h"
#include "links/mime_walk.h"
#include "mail/message.h"

namespace mailmoat::links {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string describe(const HtmlScan& scan) {
  std::string out = "skipped_relative=" + std::to_string(scan.skipped_relative) + "\n";
  for (const auto& s : scan.sites)
    out += std::to_string(s.offset) + "+" + std::to_string(s.length) + " " + as_gumbo_reads(s.url) + "\n";
  return out;
}

void expect_same(const std::string& html, const std::string& label) {
  for (bool images : {false, true}) {
    HtmlScan mine = find_html_urls(html, {images});
    HtmlScan oracle = gumbo_find_html_urls(html, {images});
    EXPECT_EQ(describe(mine), describe(oracle)) << label << (images ? " (images)" : "") << "\n" << html;
  }
}

// The decoded text/html parts of a message, as the rewriter sees them.
std::vector<std::string> html_parts(const std::string& file) {
  std::vector<std::string> out;
  std::string message = mail::normalize_line_endings(read(file));
  auto editor = [&](const TextPartView& part) {
    if (part.type.subtype == "html") out.emplace_back(part.decoded);
    return PartChange{};
  };
  edit_text_parts(message, {}, editor);
  return out;
}

// Every message of the links corpus and of every fuzz corpus (disclaimer, preview,
// MIME...): their HTML parts, as the rewriter decodes them.
TEST(HtmlScanDiff, LinksCorpusMessages) {
  std::size_t parts = 0;
  for (const char* dir : {"tests/links/corpus", "fuzz/corpus"})
    for (const auto& entry : fs::recursive_directory_iterator(fs::path(MAILMOAT_SOURCE_DIR) / dir)) {
      if (entry.path().extension() != ".eml") continue;
      for (const std::string& html : html_parts(entry.path())) {
        expect_same(html, entry.path().string());
        ++parts;
      }
    }
  EXPECT_GE(parts, 10u);
}

TEST(HtmlScanDiff, FuzzCorpusFiles) {
  std::size_t files = 0;
  expect_same(read(fs::path(MAILMOAT_SOURCE_DIR) / "web/index.html"), "web/index.html");
  // (fuzz/corpus/links_html_diff holds gumbo's known misreadings too: Fuzz.links_html_diff replays it.)
  for (const char* dir : {"fuzz/corpus/links_extract", "fuzz/corpus/links_rewrite", "fuzz/corpus/attachment_html"}) {
    fs::path p = fs::path(MAILMOAT_SOURCE_DIR) / dir;
    if (!fs::exists(p)) continue;
    for (const auto& entry : fs::directory_iterator(p)) {
      expect_same(read(entry.path()), entry.path().string());
      ++files;
    }
  }
  EXPECT_GE(files, 9u);
}

// Hand-made cases around every tokenizer state the scanner models.
const char* const kTricky[] = {
    // attributes: quoting, spacing, case, duplicates, missing values, '=' first
    "<a href=\"http://q.example/d\">x</a><a href='http://q.example/s'>y</a><a href=http://q.example/u>z</a>",
    "<A HREF = \"http://case.example/\" >x</A><a\thref\n=\nhttp://ws.example/>y</a>",
    "<a href=\"http://first.example/\" href=\"http://second.example/\">dup</a>",
    "<a href href=\"http://second.example/\">valueless first</a><a href=>empty</a><a href=\"\">e</a>",
    "<a =href=\"http://eq.example/\" href=http://real.example/>x</a>",
    "<a title=\"a>b\" href=\"http://after-gt-in-quotes.example/\">x</a>",
    "<a title=x\"y href=http://quote-in-unquoted.example/>x</a>",
    "<a href=\"http://noSpace.example/\"title=x>x</a><a/href=\"http://slash.example/\">y</a>",
    "<a href=http://self.example/ />x<area href=http://area.example/>",
    "<form action=\"http://form.example/post\"><input></form><img src=http://img.example/1.png>",
    "<image src=\"http://image-tag.example/1.png\">",
    // character references in attribute values
    "<a href=\"http://e.example/?a=1&amp;b=2&lt;3&gt;&quot;&#39;&#x41;&#65;\">x</a>",
    "<a href=\"http://e.example/?a=1&ampb=2&amp=3&notit;&notin;&not\">x</a>",
    "<a href=\"https&colon;&sol;&sol;colon.example&period;com/\">x</a>",
    "<a href=\"&#104;&#x74;tp://numeric.example/&#0;&#x110000;&#xD800;&#x80;&#150;&#;&#x;\">x</a>",
    "<a href=\"http://e.example/&#9;&#10;&#13;tab\">x</a><a href=\"&#32;http://lead.example/\">y</a>",
    "<a href=\"http://e.example/&unknownentity;&&#&#x&1\">x</a>",
    "<a href=http://unq.example/?a=1&amp;b=2&copy=3>x</a>",
    // comments, bogus comments, doctype, CDATA outside foreign content
    "<!-- <a href=\"http://in-comment.example/\"> --><a href=\"http://after.example/\">x</a>",
    "<!--><a href=\"http://after-short-comment.example/\">x</a>",
    "<!---><a href=\"http://after-short-comment2.example/\">x</a>",
    "<!-- x --!><a href=\"http://after-bang.example/\">x</a>",
    "<!-- a -- b --><a href=\"http://after-dashes.example/\">x</a><!----><!----->",
    "<!-- <!--> <a href=\"http://nested-open.example/\">",
    "<!-- unterminated <a href=\"http://never.example/\">",
    "<!x <a href=\"http://bogus.example/\">><a href=\"http://after-bogus.example/\">",
    "<?php <a href=\"http://pi.example/\"> ?><a href=\"http://after-pi.example/\">x</a>",
    "</ <a href=\"http://bogus-end.example/\">><a href=\"http://after-bogus-end.example/\">x</a>",
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0//EN\" \"x\"><a href=\"http://after-doctype.example/\">x</a>",
    "<![CDATA[ > <a href=\"http://cdata-in-html.example/\"> ]]>",
    // raw text, RCDATA, script data
    "<style>a{} <a href=\"http://in-style.example/\"></style><a href=\"http://after-style.example/\">x</a>",
    "<title><a href=\"http://in-title.example/\"></title ><a href=\"http://after-title.example/\">x</a>",
    "<textarea><a href=\"http://in-textarea.example/\"></TEXTAREA><a href=\"http://after.example/\">x</a>",
    "<xmp><a href=\"http://in-xmp.example/\"></xmp><iframe><a href=\"http://in-iframe.example/\"></iframe>",
    "<noembed><a href=\"http://in-noembed.example/\"></noembed><noframes><a href=\"http://nf.example/\"></noframes>",
    "<style></styled><a href=\"http://still-style.example/\"></style>",
    "<script>var s = '<a href=\"http://in-script.example/\">';</script><a href=\"http://after.example/\">x</a>",
    "<script><!-- document.write('<script></script><a href=\"http://double-escaped.example/\">') --></script>",
    "<script><!-- <a href=\"http://escaped.example/\"></script><a href=\"http://after-escaped.example/\">x</a>",
    "<script><!--><a href=\"http://short-escape.example/\"></script><a href=\"http://a.example/\">x</a>",
    "<script/><a href=\"http://script-self-closing.example/\"></script>",
    "<plaintext><a href=\"http://in-plaintext.example/\">",
    "<noscript><a href=\"http://in-noscript.example/\">x</a></noscript>",
    "<head><noscript><a href=\"http://in-head-noscript.example/\">x</a></noscript></head>",
    "<style>unterminated <a href=\"http://never.example/\">",
    // foreign content
    "<svg><style><a href=\"http://svg-style.example/\"></style></svg>",
    "<svg><a xlink:href=\"http://xlink.example/\">x</a></svg>",
    "<svg><![CDATA[ > <a href=\"http://svg-cdata.example/\"> ]]></svg><a href=\"http://after-svg.example/\">",
    "<math><title><a href=\"http://math-title.example/\"></title></math>",
    "<svg/><style><a href=\"http://after-self-closing-svg.example/\"></style>",
    "<svg><p><style><a href=\"http://breakout.example/\"></style>",
    "<svg></svg><style><a href=\"http://after-svg-end.example/\"></style>",
    // base
    "<base href=\"https://b.example/dir/\"><a href=\"x.html\">x</a><a href=\"../up\">u</a><a href=\"?q\">q</a>",
    "<a href=\"early.html\">before the base</a><base href=\"https://b.example/\">",
    "<base target=_blank><base href=\"https://second-base.example/\"><a href=\"x\">x</a>",
    "<base href><a href=\"x\">x</a>",
    // schemes that are not web links, relative links, whitespace
    "<a href=\"mailto:a@b\">m</a><a href=\" javascript:x\">j</a><a href=\"#top\">t</a><a href=\"/rel\">r</a>",
    "<a href=\"  http://padded.example/  \">p</a><a href=\"ht\ntp://split.example/\">s</a>",
    "<a href=\"//protocol-relative.example/x\">p</a>",
    // EOF in the middle of a tag: the tag is never emitted
    "<a href=\"http://eof-in-value.example/", "<a href=http://eof-unquoted.example/", "<a href=\"http://eof.example/\"",
    "<a href=\"http://eof.example/\" ", "<a href=\"http://eof.example/\"/", "<a", "<", "</", "<!", "<!-",
    // text that looks like a tag
    "a < b > c <3 <a href=\"http://after-lt.example/\">x</a> 1<2",
    "<a\x00 href=\"http://nul-name.example/\">x</a><a href=\"http://nul\x00value.example/\">y</a>",
    "<p><b><a href=\"http://adoption.example/\">x</p>y</a></b>",
    "<table><a href=\"http://foster.example/\">x</a><tr><td><a href=\"http://cell.example/\">y</td></tr></table>",
    "<a href=\"http://latin1.example/\xe9t\xe9\">x</a>",
    "<template><a href=\"http://in-template.example/\">x</a></template>",
};

TEST(HtmlScanDiff, HandMadeTrickyCases) {
  for (std::size_t i = 0; i < std::size(kTricky); ++i) expect_same(kTricky[i], "case " + std::to_string(i));
  // NUL bytes need an explicit length.
  expect_same(std::string("<a href=\"http://nul\0value.example/\">y</a>", 38), "NUL in value");
  expect_same(std::string("<a \0href=\"http://nul-attribute.example/\">y</a>", 46), "NUL before an attribute name");
  expect_same(std::string("<a \0\0href=\"http://nul-nul.example/\">y</a>", 41), "two NULs before an attribute name");
  expect_same(std::string("<base \0\0href=\"https://a.example/\"><base href=\"https://b.example/\"><a href=x>", 76),
              "two NULs before a base href");
  expect_same(std::string("<a\0 href=\"http://nul-tag.example/\">z</a>", 40), "NUL in a tag name");
  expect_same(std::string("<base hre\0f=\"https: x\" href=\"http://b.example/\"><img src=x.png>", 63),
              "NUL inside an attribute name");
}

// Where the tree builder drops a start tag that the tokenizer emitted, a browser
// would not follow the link; the scanner, which has no tree, still reports it.
// Rewriting a link nobody can click is harmless; each case says why it differs.
TEST(HtmlScanDiff, IntendedDifferences) {
  auto urls = [](const std::string& html) {
    std::vector<std::string> out;
    for (const auto& s : find_html_urls(html, {}).sites) out.push_back(s.url);
    return out;
  };
  using V = std::vector<std::string>;
  // 13.2.6.4.7 "in body", start tag "form": ignored while the form element pointer is set.
  std::string nested = "<form action=http://outer.example/><form action=http://inner.example/>";
  EXPECT_EQ(urls(nested), (V{"http://outer.example/", "http://inner.example/"}));
  EXPECT_EQ(gumbo_find_html_urls(nested, {}).sites.size(), 1u);
  // "in select": any other start tag (here "a") is ignored.
  std::string select = "<select><a href=http://in-select.example/>x</a></select>";
  EXPECT_EQ(urls(select), V{"http://in-select.example/"});
  EXPECT_TRUE(gumbo_find_html_urls(select, {}).sites.empty());
  // "in frameset" / "after frameset": every other start tag is ignored.
  std::string frameset = "<frameset><a href=http://in-frameset.example/>";
  EXPECT_EQ(urls(frameset), V{"http://in-frameset.example/"});
  EXPECT_TRUE(gumbo_find_html_urls(frameset, {}).sites.empty());
  // <isindex> was removed from HTML (2016); gumbo 0.10 still builds a form from its
  // "action". Today's browsers treat it as an unknown element with no link.
  // 13.2.5.33: a repeated attribute is dropped and the first one counts; gumbo 0.10,
  // after a repeated attribute without a value, drops the next attribute instead.
  std::string repeated = "<img x x src=\"rel\" src=\"http://second.example/\">";
  EXPECT_TRUE(find_html_urls(repeated, {true}).sites.empty());
  EXPECT_EQ(find_html_urls(repeated, {true}).skipped_relative, 1u);
  EXPECT_EQ(gumbo_find_html_urls(repeated, {true}).sites.at(0).url, "http://second.example/");
  // An unquoted value that begins with a character reference: gumbo 0.10 reports its
  // source span from after that reference, so the rewrite would have left "&#104;" in
  // front of the new link. The value as written is the whole of "&#104;ttp://...".
  std::string unquoted_ref = "<a href=&#104;ttp://x.example/>x</a>";
  auto scanned = find_html_urls(unquoted_ref, {});
  ASSERT_EQ(scanned.sites.size(), 1u);
  EXPECT_EQ(unquoted_ref.substr(scanned.sites[0].offset, scanned.sites[0].length), "&#104;ttp://x.example/");
  EXPECT_EQ(scanned.sites[0].url, "http://x.example/");
  EXPECT_EQ(gumbo_find_html_urls(unquoted_ref, {}).sites.at(0).offset, 14u);
  // The first <base href> of the tree counts (13.2.6.4.4): a non-web first one leaves
  // relative links unresolved. The scanner has no tree, and a <base> the tree builder
  // dropped may come first in the source: it takes the first web <base href>.
  std::string bases = "<base href=\"mailto:x@y\"><base href=\"https://second.example/\"><a href=\"x\">x</a>";
  EXPECT_EQ(urls(bases), V{"https://second.example/x"});
  EXPECT_TRUE(gumbo_find_html_urls(bases, {}).sites.empty());
  std::string isindex = "<isindex action=\"http://isindex.example/\">";
  EXPECT_TRUE(urls(isindex).empty());
  EXPECT_EQ(gumbo_find_html_urls(isindex, {}).sites.size(), 1u);
}

TEST(HtmlScanDiff, GeneratedNewsletterAndDeepNesting) {
  std::string html = "<!DOCTYPE html><html><head><style>td{x:y}</style><title>T</title></head><body><table>";
  for (int i = 0; i < 200; ++i)
    html += "<tr><td><img src=\"https://cdn.example.com/" + std::to_string(i) + ".jpg\"><a href=\"https://n.example/" +
            std::to_string(i) + "?a=1&amp;b=2\" style=\"color:red\">H</a><!-- c --><p>text &amp; more</p></td></tr>";
  html += "</table><script>if (a < b) {}</script></body></html>";
  expect_same(html, "generated newsletter");
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<div><span>";
  deep += "<a href=\"http://deep.example/\">x</a>";
  expect_same(deep, "deep nesting");
}

}  // namespace
}  // namespace mailmoat::links
