// End-user quarantine digests through the real gateway: spam and a malware
// item are quarantined, `mailmoat quarantine digest --now` sends the digest
// through the queue, it is read from the recipient's Maildir, its spam link
// shows a confirmation page on GET (nothing released: link scanners prefetch)
// and releases on POST to that recipient only (delivered, traced); the
// malware link can only file a release request for admins; a tampered link
// is refused; the daily run is claimed once per day in the shared store.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

namespace {

constexpr const char* kZone = R"(
$ORIGIN bl.test.
$TTL 300
1.0.0.127 IN A 127.0.0.2
)";

struct DigestGateway {
  Gateway gw;
  std::string http = "127.0.0.1:" + std::to_string(free_port());
  bool start() {
    std::ofstream(gw.zone_file()) << kZone;
    return gw.start({"http.listen=" + http, "connection.dnsbl_zones=[\"bl.test\"]",
                     "quarantine_digest.enabled=true", "quarantine_digest.from=quarantine@localhost",
                     "attachments.policy.0.action=off", "attachments.workers=1",
                     "attachments.banned_extensions=[\"scr\"]"});
  }
  CommandResult cli(std::vector<std::string> args) const {
    args.insert(args.end(), {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + http});
    return run(args);
  }
  std::string send(const std::string& subject, const std::string& extra_body = "") const {
    SmtpClient c;
    if (!c.connect(gw.smtp_address())) return "connect failed";
    return c.send_message("news@example.org", {"a@localhost", "b@localhost"},
                          "From: news@example.org\r\nSubject: " + subject + "\r\n" + extra_body);
  }
  // Waits for `n` held items.
  nlohmann::json held(std::size_t n) const {
    nlohmann::json j;
    for (int i = 0; i < 100; ++i) {
      j = nlohmann::json::parse(cli({"quarantine", "list", "--json"}).out, nullptr, false);
      if (!j.is_discarded() && j["items"].size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return j;
  }
};

std::string target_of(const std::string& link, const std::string& http) {
  return link.substr(std::string("http://" + http).size());
}

}  // namespace

TEST(QuarantineDigest, SpamSelfReleasesMalwareOnlyRequestsTamperingIsRefused) {
  DigestGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("Weekly offers", "\r\nCheap things.\r\n")), 250);
  const std::string scr =
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\nEnjoy.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"fun.scr\"\r\n\r\nnot really\r\n--b--\r\n";
  ASSERT_EQ(reply_code(g.send("Screensaver", scr)), 250);
  auto items = g.held(2);
  ASSERT_EQ(items["items"].size(), 2u) << g.gw.log();

  auto sent = g.cli({"quarantine", "digest", "--now", "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto sj = nlohmann::json::parse(sent.out);
  EXPECT_EQ(sj["recipients"], 2);
  EXPECT_EQ(sj["items"], 4);
  auto box = wait_for_mail(g.gw.data_dir(), "a@localhost", 1);
  ASSERT_EQ(box.size(), 1u) << g.gw.log();
  const std::string& digest = box[0];
  EXPECT_NE(digest.find("Subject: Quarantine digest: 2 message(s) held for you"), std::string::npos) << digest;
  EXPECT_NE(digest.find("From:    news@example.org"), std::string::npos) << digest;
  EXPECT_NE(digest.find("Subject: Weekly offers"), std::string::npos) << digest;

  // One link per item: "Release:" for spam, "Request release:" for malware.
  std::smatch m;
  std::string spam_link, malware_link;
  std::regex release_re("\nRelease: (http://[^\\s]+)"), request_re("\nRequest release: (http://[^\\s]+)");
  if (std::regex_search(digest, m, release_re)) spam_link = m[1];
  if (std::regex_search(digest, m, request_re)) malware_link = m[1];
  ASSERT_FALSE(spam_link.empty()) << digest;
  ASSERT_FALSE(malware_link.empty()) << digest;
  EXPECT_EQ(spam_link.rfind("http://" + g.http + "/v1/q/release?", 0), 0u) << spam_link;

  // GET shows a confirmation form and releases nothing.
  const std::string spam_target = target_of(spam_link, g.http);
  auto page = http_request(g.http, "GET", spam_target);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("<form method=\"post\""), std::string::npos) << page.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(mailbox(g.gw.data_dir(), "a@localhost").size(), 1u);  // the digest only

  // A tampered link (another recipient) is refused.
  std::string tampered = std::regex_replace(spam_target, std::regex("r=a%40localhost"), "r=b%40localhost");
  ASSERT_NE(tampered, spam_target);
  EXPECT_EQ(http_request(g.http, "POST", tampered).status, 403);
  EXPECT_EQ(http_request(g.http, "GET", spam_target + "x").status, 403);

  // POST releases to a@localhost only.
  auto done = http_request(g.http, "POST", spam_target);
  ASSERT_EQ(done.status, 200) << done.body;
  auto a_mail = wait_for_mail(g.gw.data_dir(), "a@localhost", 2);
  ASSERT_EQ(a_mail.size(), 2u) << g.gw.log();
  bool released = false;
  for (const auto& mail : a_mail)
    released |= mail.find("Cheap things.") != std::string::npos &&
                mail.find("X-Mailmoat-Released: quarantine=") != std::string::npos &&
                mail.find("by=digest:a@localhost") != std::string::npos;
  EXPECT_TRUE(released);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (const auto& mail : mailbox(g.gw.data_dir(), "b@localhost"))
    EXPECT_EQ(mail.find("Cheap things."), std::string::npos);  // b got only its digest
  // Traced: the original message's timeline has the release.
  std::string spam_queue_id;
  for (const auto& i : items["items"])
    if (i["subject"] == "Weekly offers") spam_queue_id = i["queue_id"];
  std::string trace;
  for (int i = 0; i < 50 && trace.find("digest:a@localhost") == std::string::npos; ++i) {
    trace = g.cli({"trace", "show", spam_queue_id}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(trace.find("by digest:a@localhost"), std::string::npos) << trace;

  // The malware link never releases: it files a request for admins.
  const std::string malware_target = target_of(malware_link, g.http);
  auto req = http_request(g.http, "POST", malware_target);
  EXPECT_EQ(req.status, 202) << req.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(mailbox(g.gw.data_dir(), "a@localhost").size(), 2u);
  auto requests = g.cli({"quarantine", "requests", "--json"});
  ASSERT_EQ(requests.exit_code, 0) << requests.err;
  auto rj = nlohmann::json::parse(requests.out);
  ASSERT_EQ(rj["items"].size(), 1u) << requests.out;
  EXPECT_EQ(rj["items"][0]["recipient"], "a@localhost");
  EXPECT_EQ(rj["items"][0]["reason"], "malware");
  EXPECT_EQ(rj["items"][0]["state"], "held");

  // The daily run is claimed once per day; --now sends regardless.
  auto first = nlohmann::json::parse(g.cli({"quarantine", "digest", "--json"}).out);
  auto second = nlohmann::json::parse(g.cli({"quarantine", "digest", "--json"}).out);
  EXPECT_TRUE(first["sent"]);
  EXPECT_FALSE(second["sent"]);
}

}  // namespace mailmoat::testing
