// Dynamic Delivery's links while the analysis runs, and the expiry of its
// records (issue 9, docs/attachments.md): real SMTP in, Maildir out, the
// public /v1/a route asked over HTTP, data_dir/attachments/dynamic/ read back.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <regex>

#include "harness.h"
#include "samples.h"

namespace mailmoat::testing {
namespace {

namespace fs = std::filesystem;
namespace s = test_samples;

std::string link_in(const std::string& mail, const std::string& http) {
  std::smatch m;
  std::regex re("http://" + std::regex_replace(http, std::regex(R"(\.)"), R"(\.)") +
                R"((/v1/a\?m=[A-Za-z0-9._%-]+&p=[0-9]+&s=[A-Za-z0-9_-]+))");
  return std::regex_search(mail, m, re) ? m[1].str() : std::string();
}

TEST(AttachmentsDynamic, ALinkFollowedBeforeTheAnalysisEndsShowsTheBeingScannedPage) {
  SilentListener clamd;  // a clamd that never answers: the analysis runs until its budget ends
  ASSERT_TRUE(clamd.ok());
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  Gateway gw;
  ASSERT_TRUE(gw.start({"http.listen=" + http, "attachments.workers=1", "attachments.policy.0.action=dynamic_delivery",
                        "attachments.policy.0.budget_ms=120000", "attachments.fast_path_ms=0",
                        "attachments.clamd=" + clamd.address()}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("sender@example.org", {"u@localhost"},
                                 s::message("Body now.", {{"paper.pdf", "application/pdf", s::plain_pdf()}}));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto box = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(box.size(), 1u) << gw.log();
  std::string link = link_in(box[0], http);
  ASSERT_FALSE(link.empty()) << box[0];
  // clamd never answers: the original is still held and under analysis.
  auto got = http_request(http, "GET", link);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_NE(got.body.find("Being scanned"), std::string::npos) << got.body;
  EXPECT_NE(got.body.find("still scanning this attachment"), std::string::npos) << got.body;
  EXPECT_EQ(got.body.find("%PDF"), std::string::npos) << got.body;  // never the file itself
  EXPECT_NE(got.headers.find("no-store"), std::string::npos) << got.headers;
  // Asking again changes nothing while the analysis runs.
  EXPECT_EQ(http_request(http, "GET", link).status, 200);
  EXPECT_EQ(mailbox(gw.data_dir(), "u@localhost").size(), 1u);  // the original is not delivered
  gw.kill9();  // the analysis would wait out its budget on a normal stop
}

TEST(AttachmentsDynamic, RecordsOlderThanTheRetentionAreRemovedAtStart) {
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  Gateway gw;
  const fs::path dir = fs::path(gw.data_dir()) / "var" / "attachments" / "dynamic";
  fs::create_directories(dir);
  TempDir scratch;
  auto put = [&](const std::string& name, const std::string& text, int age_days) {
    scratch.write(name, text);
    fs::copy_file(scratch.file(name), dir / name, fs::copy_options::overwrite_existing);
    fs::last_write_time(dir / name, fs::file_time_type::clock::now() - std::chrono::days(age_days));
  };
  put("OLD1.json", R"({"verdict":"clean","reason":""})", 31);
  put("OLD1.eml", "Subject: old\r\n\r\nold original\r\n", 31);
  put("OLD2.json", R"({"verdict":"malicious","reason":"office: auto-exec macro"})", 40);
  put("KEEP.json", R"({"verdict":"clean","reason":""})", 2);
  put("KEEP.eml", "Subject: recent\r\n\r\nrecent original\r\n", 2);
  put("notes.txt", "not ours", 400);
  ASSERT_TRUE(gw.start({"http.listen=" + http, "attachments.workers=1", "attachments.policy.0.action=dynamic_delivery",
                        "attachments.dynamic_retention_days=30"}))
      << gw.log();
  ASSERT_TRUE(gw.wait_for_log("attachments.dynamic_expired", std::chrono::seconds(30))) << gw.log();
  EXPECT_NE(gw.log().find("attachments.dynamic_expired originals=2 "), std::string::npos) << gw.log();
  EXPECT_FALSE(fs::exists(dir / "OLD1.json"));
  EXPECT_FALSE(fs::exists(dir / "OLD1.eml"));
  EXPECT_FALSE(fs::exists(dir / "OLD2.json"));
  EXPECT_TRUE(fs::exists(dir / "KEEP.json"));
  EXPECT_TRUE(fs::exists(dir / "KEEP.eml"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));  // only the store's own files are touched
}

}  // namespace
}  // namespace mailmoat::testing
