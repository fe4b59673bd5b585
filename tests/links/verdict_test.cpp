// The verdict engine: lists from files in every supported format, reloaded
// when they change, and heuristics that give a reason for what they flag.
#include "links/verdict.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace mailmoat::links {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("links-verdict-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

bool has_reason(const UrlVerdict& v, const std::string& part) {
  for (const auto& r : v.reasons)
    if (r.find(part) != std::string::npos) return true;
  return false;
}

TEST(UrlList, UnderstandsEveryFormat) {
  std::vector<std::string> problems;
  auto list = UrlList::parse(
      "# a comment\nevil.example\n*.wild.example\n0.0.0.0 hosts.example\n127.0.0.1 a.example b.example\n"
      "http://urlhaus.example/bad/payload.exe\n/phish[0-9]+\\.html/\nwhat is this\n/(unclosed/\n",
      "list.txt", problems);
  auto match = [&](const std::string& url) { return list.match(url, *parse_url(url)); };
  EXPECT_EQ(match("http://evil.example/"), "list.txt:2 evil.example");
  EXPECT_NE(match("http://x.evil.example/"), "");  // a listed domain covers its subdomains
  EXPECT_NE(match("http://x.wild.example/"), "");
  EXPECT_EQ(match("http://wild.example/"), "");    // a wildcard does not cover the domain itself
  EXPECT_NE(match("http://hosts.example/"), "");
  EXPECT_NE(match("http://b.example/"), "");
  EXPECT_NE(match("http://urlhaus.example/bad/payload.exe"), "");
  EXPECT_EQ(match("http://urlhaus.example/good"), "");
  EXPECT_NE(match("https://fine.example/phish42.html"), "");
  EXPECT_EQ(match("https://fine.example/"), "");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("list.txt:8"), std::string::npos);
  EXPECT_NE(problems[1].find("invalid regular expression"), std::string::npos);
}

TEST(VerdictEngine, BlockBeatsAllowAndAllowBeatsHeuristics) {
  TempDir dir;
  auto block = std::make_shared<UrlListFiles>(std::vector<std::string>{dir.write("block", "evil.example\n")},
                                              std::chrono::seconds(0));
  auto allow = std::make_shared<UrlListFiles>(
      std::vector<std::string>{dir.write("allow", "evil.example\n10.1.2.3\n")}, std::chrono::seconds(0));
  VerdictEngine engine({}, block, allow);
  EXPECT_EQ(engine.evaluate("http://evil.example/").rating, Rating::malicious);
  auto v = engine.evaluate("http://10.1.2.3/");
  EXPECT_EQ(v.rating, Rating::allowed);
  EXPECT_TRUE(has_reason(v, "allow list"));
  EXPECT_EQ(v.list_entry, dir.path.string() + "/allow:2 10.1.2.3");
}

TEST(VerdictEngine, ReloadsAListWhenItsFileChanges) {
  TempDir dir;
  std::string path = dir.write("block", "one.example\n");
  auto block = std::make_shared<UrlListFiles>(std::vector<std::string>{path}, std::chrono::seconds(0));
  VerdictEngine engine({}, block, nullptr);
  EXPECT_EQ(engine.evaluate("http://two.example/").rating, Rating::allowed);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  dir.write("block", "one.example\ntwo.example\n");
  fs::last_write_time(path, fs::file_time_type::clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(engine.evaluate("http://two.example/").rating, Rating::malicious);  // not the cached "allowed"
}

TEST(VerdictEngine, HeuristicsGiveReasons) {
  VerdictOptions options;
  options.protected_domains = {"paypal.com", "example.org"};
  options.shorteners = {"bit.ly"};
  VerdictEngine engine(options, nullptr, nullptr);
  auto ip = engine.evaluate("http://192.0.2.7/login");
  EXPECT_EQ(ip.rating, Rating::suspicious);
  EXPECT_TRUE(has_reason(ip, "IP address"));
  EXPECT_EQ(engine.evaluate("http://0x7f.1/").rating, Rating::suspicious);
  EXPECT_TRUE(has_reason(engine.evaluate("https://paypal.com@evil.example/"), "user name"));
  auto lookalike = engine.evaluate("https://login.paypa1.com/");
  EXPECT_EQ(lookalike.rating, Rating::malicious);
  EXPECT_TRUE(has_reason(lookalike, "imitates paypal.com"));
  // Cyrillic "а" in "pаypal.com", written as punycode.
  auto cyrillic = engine.evaluate("https://xn--pypal-4ve.com/");
  EXPECT_EQ(cyrillic.rating, Rating::malicious);
  EXPECT_EQ(engine.evaluate("https://www.paypal.com/").rating, Rating::allowed);
  EXPECT_EQ(engine.evaluate("https://mail.example.org/").rating, Rating::allowed);
  EXPECT_TRUE(has_reason(engine.evaluate("https://a.b.c.d.e.f.g.example.net/"), "levels"));
  EXPECT_TRUE(has_reason(engine.evaluate("https://bit.ly/3xyz"), "shortener"));
  EXPECT_EQ(engine.evaluate("https://go.bit.ly/3xyz").shortener, "bit.ly");  // the click service resolves through it
  EXPECT_EQ(engine.evaluate("https://news.example.net/a").shortener, "");
  EXPECT_EQ(engine.evaluate("https://news.example.net/a").rating, Rating::allowed);
}

}  // namespace
}  // namespace mailmoat::links
