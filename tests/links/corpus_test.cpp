// Rewriting real-world-shaped messages (newsletter, plain text, base64 Latin-1
// HTML, a forward with attachments, a calendar invite, an S/MIME signed
// message): every part other than the rewritten URLs must stay identical, as
// read back by GMime and by Python's email package (tests/links/compare_parts.py).
#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "links/mime_rewrite.h"
#include "links/token.h"
#include "mail/message.h"

namespace mailmoat::links {
namespace {

namespace fs = std::filesystem;
const std::string kPublic = "https://links.test";

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Rewritten {
  std::string original, message;
  RewriteOutcome outcome;
};

Rewritten rewrite_file(const std::string& name, RewriteOptions options = {}) {
  static LinkSigner signer = *LinkSigner::create(kPublic, {"corpus-test-key-0123456789"});
  Rewritten r;
  r.original = mail::normalize_line_endings(read(fs::path(MAILMOAT_SOURCE_DIR) / "tests/links/corpus" / name));
  r.outcome = rewrite_message(r.original, options, [](const std::string& url) -> std::optional<std::string> {
    if (signer.is_own_link(url)) return std::nullopt;
    return signer.wrap({url, "Q1", "sue@example.org", ""});
  });
  auto parsed = mail::Message::parse(r.original);
  r.message = std::string(parsed->header_section()) + (r.outcome.body ? *r.outcome.body : std::string(parsed->body()));
  return r;
}

// GMime's view of a message: per part, its headers and its decoded content.
struct Leaf {
  std::string headers, content, type;
};

void collect(GMimeObject* object, std::vector<Leaf>& out) {
  Leaf leaf;
  char* headers = g_mime_header_list_to_string(g_mime_object_get_header_list(object), nullptr);
  leaf.headers = headers ? headers : "";
  g_free(headers);
  char* type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(object));
  leaf.type = type;
  g_free(type);
  if (GMIME_IS_MULTIPART(object)) {
    out.push_back(leaf);
    for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(object)); ++i)
      collect(g_mime_multipart_get_part(GMIME_MULTIPART(object), i), out);
  } else if (GMIME_IS_MESSAGE_PART(object)) {
    out.push_back(leaf);
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner) collect(g_mime_message_get_mime_part(inner), out);
  } else if (GMIME_IS_PART(object)) {
    GMimeStream* mem = g_mime_stream_mem_new();
    GMimeDataWrapper* content = g_mime_part_get_content(GMIME_PART(object));
    if (content) g_mime_data_wrapper_write_to_stream(content, mem);
    GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    leaf.content.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
    g_object_unref(mem);
    out.push_back(leaf);
  }
}

std::vector<Leaf> gmime_parts(const std::string& message) {
  g_mime_init();
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(message.data(), message.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  GMimeMessage* parsed = g_mime_parser_construct_message(parser, nullptr);
  std::vector<Leaf> out;
  if (parsed) {
    collect(g_mime_message_get_mime_part(parsed), out);
    g_object_unref(parsed);
  }
  g_object_unref(parser);
  g_object_unref(stream);
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t p = 0; (p = s.find(from, p)) != std::string::npos; p += to.size()) s.replace(p, from.size(), to);
  return s;
}

// Puts each original URL back where its signed link stands.
std::string restore(const std::string& text, bool html) {
  std::string out;
  std::size_t pos = 0;
  const std::string prefix = kPublic + "/v1/l?";
  for (std::size_t at; (at = text.find(prefix, pos)) != std::string::npos;) {
    std::size_t end = text.find_first_of("\"'<> \t\r\n", at);
    if (end == std::string::npos) end = text.size();
    // The tag (base64url) ends a link; punctuation after it belongs to the sentence.
    while (end > at && std::string_view(".,;:!?)").find(text[end - 1]) != std::string_view::npos) --end;
    std::string link = text.substr(at, end - at);
    if (html) link = replace_all(link, "&amp;", "&");
    auto parsed = parse_link(link);
    EXPECT_TRUE(parsed) << link;
    out += text.substr(pos, at - pos);
    out += parsed ? (html ? replace_all(parsed->fields.url, "&", "&amp;") : parsed->fields.url) : link;
    pos = end;
  }
  return replace_all(out + text.substr(pos), "http://www.", "www.");
}

void expect_only_links_changed(const Rewritten& r) {
  auto before = gmime_parts(r.original), after = gmime_parts(r.message);
  ASSERT_FALSE(before.empty());
  ASSERT_EQ(before.size(), after.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(before[i].headers, after[i].headers) << "part " << i;
    EXPECT_EQ(before[i].type, after[i].type) << "part " << i;
    bool text = before[i].type == "text/plain" || before[i].type == "text/html";
    if (text)
      EXPECT_EQ(replace_all(before[i].content, "http://www.", "www."), restore(after[i].content, before[i].type == "text/html"))
          << "part " << i;
    else
      EXPECT_EQ(before[i].content, after[i].content) << "part " << i;
  }
  // The same check through Python's email package, an independent MIME parser.
  fs::path dir = fs::temp_directory_path() / ("links-corpus-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a.eml", std::ios::binary) << r.original;
  std::ofstream(dir / "b.eml", std::ios::binary) << r.message;
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) + "/tests/links/compare_parts.py " +
                    (dir / "a.eml").string() + " " + (dir / "b.eml").string() + " " + kPublic;
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  fs::remove_all(dir);
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

bool lines_within_998(const std::string& s) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = s.find("\r\n", start)) != std::string::npos; start = nl + 2)
    if (nl - start > 998) return false;
  return true;
}

RewriteOptions with_images() {
  RewriteOptions o;
  o.rewrite_images = true;
  return o;
}

RewriteOptions capped(std::size_t n) {
  RewriteOptions o;
  o.max_urls = n;
  return o;
}

TEST(LinkCorpus, NewsletterRewritesLinksButNotImagesMailtoOrFragments) {
  auto r = rewrite_file("newsletter.eml");
  ASSERT_TRUE(r.outcome.body);
  EXPECT_EQ(r.outcome.rewritten, 5u);  // 3 in the text part (one www.), 2 in HTML
  EXPECT_NE(r.message.find("cdn.news.example/logo.png"), std::string::npos);
  EXPECT_NE(r.message.find("mailto:editor@news.example"), std::string::npos);
  EXPECT_TRUE(lines_within_998(r.message));
  expect_only_links_changed(r);
}

TEST(LinkCorpus, ImagesAreRewrittenWhenConfigured) {
  auto r = rewrite_file("newsletter.eml", with_images());
  EXPECT_EQ(r.outcome.rewritten, 7u);
  expect_only_links_changed(r);
}

TEST(LinkCorpus, PlainTextKeepsItsTransferEncodingAndTelLinks) {
  auto r = rewrite_file("plain.eml");
  EXPECT_EQ(r.outcome.rewritten, 2u);
  EXPECT_NE(r.message.find("tel:+15551234"), std::string::npos);
  expect_only_links_changed(r);
}

TEST(LinkCorpus, Base64Latin1HtmlIsReencodedInBase64) {
  auto r = rewrite_file("latin1-base64.eml");
  EXPECT_EQ(r.outcome.rewritten, 2u);
  EXPECT_EQ(r.message.find("https://boutique.example"), std::string::npos);  // only inside base64
  EXPECT_TRUE(lines_within_998(r.message));
  expect_only_links_changed(r);
}

TEST(LinkCorpus, ForwardRewritesTheInnerMessageButNotAttachments) {
  auto r = rewrite_file("forward.eml");
  EXPECT_EQ(r.outcome.rewritten, 3u);
  EXPECT_NE(r.message.find("https://attached.example/keep"), std::string::npos);
  expect_only_links_changed(r);
}

TEST(LinkCorpus, CalendarInviteKeepsTheCalendarPart) {
  auto r = rewrite_file("invite.eml");
  EXPECT_EQ(r.outcome.rewritten, 2u);
  EXPECT_EQ(count(r.message, "URL:https://meet.partner.example/j/123456"), 1u);
  expect_only_links_changed(r);
}

TEST(LinkCorpus, SignedMessagesAreNeverModified) {
  auto r = rewrite_file("signed.eml");
  EXPECT_FALSE(r.outcome.body);
  EXPECT_EQ(r.message, r.original);
  ASSERT_EQ(r.outcome.notes.size(), 1u);
  EXPECT_NE(r.outcome.notes[0].find("signed or encrypted"), std::string::npos);
}

TEST(LinkCorpus, RewrittenMessagesAreNotRewrittenTwice) {
  auto once = rewrite_file("newsletter.eml");
  static LinkSigner signer = *LinkSigner::create(kPublic, {"corpus-test-key-0123456789"});
  auto twice = rewrite_message(once.message, {}, [](const std::string& url) -> std::optional<std::string> {
    if (signer.is_own_link(url)) return std::nullopt;
    return signer.wrap({url, "Q2", "x@example.org", ""});
  });
  EXPECT_EQ(twice.rewritten, 0u);
  EXPECT_FALSE(twice.body);
}

TEST(LinkCorpus, CapLeavesTheRestAndSaysSo) {
  auto r = rewrite_file("newsletter.eml", capped(2));
  EXPECT_EQ(r.outcome.rewritten, 2u);
  EXPECT_EQ(r.outcome.left_over_cap, 3u);
  ASSERT_FALSE(r.outcome.notes.empty());
  EXPECT_NE(r.outcome.notes.back().find("over the cap of 2"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::links
