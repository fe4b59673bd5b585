// Safe Attachments through the real SMTP path (issue 9): messages carrying
// samples generated here go in with SmtpClient, come out in Maildir or stay
// quarantined (reason malware), and the trace records every attachment.
// clamd is started by the test with a signature database it writes itself.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "harness.h"
#include "samples.h"

namespace mailmoat::testing {
namespace {

namespace s = test_samples;

std::string queue_id(const std::string& reply) {
  auto at = reply.find("queued as ");
  if (at == std::string::npos) return {};
  std::string id = reply.substr(at + 10);
  while (!id.empty() && (id.back() == '\r' || id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::vector<std::string> cli_target(const Gateway& gw) {
  return {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + gw.http_address()};
}

std::string trace_of(const Gateway& gw, const std::string& id) {
  std::vector<std::string> args{"trace", "show", id, "--json"};
  for (auto& a : cli_target(gw)) args.push_back(a);
  auto r = run(args);
  return r.out + r.err;
}

// In the quarantine store, with the malware reason (polled: storing follows the 250).
bool quarantined(const Gateway& gw, const std::string& id) {
  std::vector<std::string> args{"quarantine", "list", "--json"};
  for (auto& a : cli_target(gw)) args.push_back(a);
  for (int i = 0; i < 50; ++i) {
    auto r = run(args);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_discarded())
      for (const auto& item : j["items"])
        if (item.value("queue_id", "") == id) return item.value("reason", "") == "malware";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string send(const Gateway& gw, const std::string& message, const std::string& to = "u@localhost") {
  SmtpClient c;
  if (!c.connect(gw.smtp_address())) return "connect failed";
  return c.send_message("sender@example.org", {to}, message);
}

// A message with one attachment; body text may carry an archive password.
std::string with(const std::string& name, const std::string& content, const std::string& body = "Please see the file.") {
  return s::message(body, {{name, "application/octet-stream", content}});
}

std::vector<std::string> policy(const std::string& action) {
  return {"attachments.policy.0.action=" + action, "attachments.workers=1", "attachments.policy.0.budget_ms=4000"};
}

// Waits until the queue has settled the message one way or the other.
bool delivered(const Gateway& gw, std::size_t n, const std::string& to = "u@localhost") {
  return wait_for_mail(gw.data_dir(), to, n, std::chrono::seconds(10)).size() >= n;
}

TEST(Attachments, BlockQuarantinesMaliciousAndDeliversClean) {
  Gateway gw;
  ASSERT_TRUE(gw.start(policy("block"))) << gw.log();
  std::string r = send(gw, with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string id = queue_id(r);
  std::string clean = send(gw, with("paper.pdf", s::plain_pdf()));
  ASSERT_EQ(reply_code(clean), 250) << clean;
  ASSERT_TRUE(delivered(gw, 1));
  auto box = mailbox(gw.data_dir(), "u@localhost");
  ASSERT_EQ(box.size(), 1u);  // only the clean one
  EXPECT_NE(box[0].find("paper.pdf"), std::string::npos);
  EXPECT_TRUE(quarantined(gw, id)) << id;
  std::string t = trace_of(gw, id);
  EXPECT_NE(t.find("invoice.docm"), std::string::npos) << t;
  EXPECT_NE(t.find("verdict=malicious"), std::string::npos) << t;
  EXPECT_NE(t.find("auto-exec macro autoopen"), std::string::npos) << t;
  EXPECT_NE(t.find("analyzers=triage,names,kind,archive,office,sandbox"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome=quarantined"), std::string::npos) << t;
  EXPECT_NE(t.find("sha256="), std::string::npos) << t;
  EXPECT_NE(t.find("duration_ms="), std::string::npos) << t;
}

TEST(Attachments, EachSampleGetsItsVerdictThroughSmtp) {
  Gateway gw;
  ASSERT_TRUE(gw.start(policy("block"))) << gw.log();
  struct Case {
    std::string name, content, body, reason;
  };
  std::vector<Case> cases{
      {"statement.pdf", s::pdf_with_openaction_js(), "", "JavaScript run on open"},
      {"view.html", s::html_smuggling(), "", "html: smuggling"},
      {"bomb.zip", s::zip_bomb(3, 20 << 20), "", "archive limits"},
      {"invoice\xE2\x80\xAE" "fdp.exe", s::pe_executable(), "", "right-to-left override"},
      {"report.pdf", s::pe_executable(), "", "executable named .pdf"},
      {"invoice.zip", s::archive({{"invoice.js", "WScript.Echo(1)"}}, "zip", "Inv2026"),
       "The archive password is: Inv2026", "script or shortcut: .js"},
  };
  for (const auto& c : cases) {
    std::string r = send(gw, with(c.name, c.content, c.body.empty() ? "See attached." : c.body));
    ASSERT_EQ(reply_code(r), 250) << c.name << ": " << r;
    std::string id = queue_id(r);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(quarantined(gw, id)) << c.name;
    std::string t = trace_of(gw, id);
    EXPECT_NE(t.find(c.reason), std::string::npos) << c.name << ": " << t;
  }
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
}

TEST(Attachments, ReplaceDeliversWithANoticeInsteadOfTheBadFile) {
  Gateway gw;
  ASSERT_TRUE(gw.start(policy("replace"))) << gw.log();
  std::string msg = s::message("Two files.", {{"invoice.docm", "application/octet-stream", s::docm_with_autoopen()},
                                              {"notes.txt", "text/plain", "keep this text"}});
  ASSERT_EQ(reply_code(send(gw, msg)), 250);
  ASSERT_TRUE(delivered(gw, 1));
  std::string m = mailbox(gw.data_dir(), "u@localhost")[0];
  EXPECT_NE(m.find("removed the attachment \"invoice.docm\" (malicious: office: auto-exec macro autoopen)"), std::string::npos) << m;
  EXPECT_EQ(m.find("filename=\"invoice.docm\""), std::string::npos) << m;
  EXPECT_NE(m.find("notes.txt"), std::string::npos) << m;
  EXPECT_NE(m.find("Two files."), std::string::npos) << m;
}

TEST(Attachments, MonitorDeliversAndRecordsTheVerdict) {
  Gateway gw;
  ASSERT_TRUE(gw.start(policy("monitor"))) << gw.log();
  std::string r = send(gw, with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250);
  ASSERT_TRUE(delivered(gw, 1));
  EXPECT_NE(mailbox(gw.data_dir(), "u@localhost")[0].find("invoice.docm"), std::string::npos);
  std::string t = trace_of(gw, queue_id(r));
  EXPECT_NE(t.find("verdict=malicious"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome=delivered (monitor)"), std::string::npos) << t;
}

TEST(Attachments, OffSkipsAnalysisButBannedExtensionsStillQuarantine) {
  Gateway gw;
  auto o = policy("off");
  o.push_back("attachments.banned_extensions=[\"scr\"]");
  ASSERT_TRUE(gw.start(o)) << gw.log();
  ASSERT_EQ(reply_code(send(gw, with("invoice.docm", s::docm_with_autoopen()))), 250);
  ASSERT_TRUE(delivered(gw, 1));
  std::string r = send(gw, with("screensaver.scr", "not really"));
  ASSERT_EQ(reply_code(r), 250);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(mailbox(gw.data_dir(), "u@localhost").size(), 1u);
  EXPECT_TRUE(quarantined(gw, queue_id(r)));
  EXPECT_NE(trace_of(gw, queue_id(r)).find("banned extension .scr"), std::string::npos);
}

TEST(Attachments, PoliciesAreChosenByRecipientAndPriority) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"attachments.workers=1", "smtp.accepted_domains=[\"localhost\",\"lab.test\"]",
                        "route.0.domains=[\"localhost\",\"lab.test\"]", "attachments.policy.0.action=block",
                        "attachments.policy.1.name=lab", "attachments.policy.1.priority=10",
                        "attachments.policy.1.recipient_domains=[\"lab.test\"]", "attachments.policy.1.action=monitor"}))
      << gw.log();
  ASSERT_EQ(reply_code(send(gw, with("invoice.docm", s::docm_with_autoopen()), "analyst@lab.test")), 250);
  ASSERT_TRUE(delivered(gw, 1, "analyst@lab.test"));
  std::string r = send(gw, with("invoice.docm", s::docm_with_autoopen()), "u@localhost");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
  EXPECT_TRUE(quarantined(gw, queue_id(r)));
}

TEST(Attachments, RecipientsWithDifferentPoliciesGetCopiesOfTheirOwn) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"attachments.workers=1", "smtp.accepted_domains=[\"localhost\",\"lab.test\"]",
                        "route.0.domains=[\"localhost\",\"lab.test\"]", "attachments.policy.0.action=block",
                        "attachments.policy.0.budget_ms=4000", "attachments.policy.1.name=lab",
                        "attachments.policy.1.priority=10", "attachments.policy.1.recipient_domains=[\"lab.test\"]",
                        "attachments.policy.1.action=monitor"}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("sender@example.org", {"u@localhost", "analyst@lab.test", "second@lab.test"},
                                 with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250) << r;
  // The lab recipients (monitor) get it; u@localhost's copy (block) is quarantined.
  ASSERT_TRUE(delivered(gw, 1, "analyst@lab.test"));
  ASSERT_TRUE(delivered(gw, 1, "second@lab.test"));
  EXPECT_TRUE(quarantined(gw, queue_id(r)));
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
  std::string t = trace_of(gw, queue_id(r));
  EXPECT_NE(t.find("recipients analyst@lab.test,second@lab.test (policy lab) go as message"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome=quarantined"), std::string::npos) << t;
}

TEST(Attachments, YaraRulesFromADirectoryQuarantineMatches) {
  TempDir rules;
  rules.write("marker.yar", "rule Integration_Marker { strings: $m = \"MAILMOAT-IT-MARKER\" condition: $m }\n");
  Gateway gw;
  auto o = policy("block");
  o.push_back("attachments.yara_rules_dir=" + rules.path());
  ASSERT_TRUE(gw.start(o)) << gw.log();
  std::string r = send(gw, with("notes.txt", "plain words MAILMOAT-IT-MARKER more words"));
  ASSERT_EQ(reply_code(r), 250) << r;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(quarantined(gw, queue_id(r)));
  EXPECT_NE(trace_of(gw, queue_id(r)).find("yara: Integration_Marker"), std::string::npos);

  TempDir broken;
  broken.write("bad.yar", "rule Bad { condition: $nope }\n");
  Gateway bad;
  auto b = policy("block");
  b.push_back("attachments.yara_rules_dir=" + broken.path());
  EXPECT_FALSE(bad.start(b));
  EXPECT_NE(bad.log().find("bad.yar"), std::string::npos) << bad.log();
}

// Polls the trace until it contains `what` (events after the 250 are recorded asynchronously).
std::string trace_until(const Gateway& gw, const std::string& id, const std::string& what) {
  std::string t;
  for (int i = 0; i < 100; ++i) {
    t = trace_of(gw, id);
    if (t.find(what) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return t;
}

TEST(Attachments, BlockHoldsTheMessageWhileAnalysisRunsThenQuarantinesOrReleases) {
  Gateway gw;
  auto o = policy("block");
  o.push_back("attachments.fast_path_ms=0");  // every analysis happens after queueing
  ASSERT_TRUE(gw.start(o)) << gw.log();
  std::string bad = send(gw, with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(bad), 250) << bad;
  std::string good = send(gw, with("paper.pdf", s::plain_pdf()));
  ASSERT_EQ(reply_code(good), 250) << good;
  ASSERT_TRUE(delivered(gw, 1));
  EXPECT_TRUE(quarantined(gw, queue_id(bad)));
  auto box = mailbox(gw.data_dir(), "u@localhost");
  ASSERT_EQ(box.size(), 1u);
  EXPECT_NE(box[0].find("paper.pdf"), std::string::npos);

  std::string t = trace_until(gw, queue_id(bad), "hold_done");
  EXPECT_NE(t.find("analysis pending"), std::string::npos) << t;  // the hold, with its reason
  EXPECT_NE(t.find("verdict=pending"), std::string::npos) << t;
  EXPECT_NE(t.find("auto-exec macro autoopen"), std::string::npos) << t;  // the analysis in the queue
  EXPECT_NE(t.find("outcome=quarantined"), std::string::npos) << t;
  EXPECT_NE(t.find("waited_ms="), std::string::npos) << t;
  std::string c = trace_until(gw, queue_id(good), "hold_done");
  EXPECT_NE(c.find("verdict=clean"), std::string::npos) << c;
  EXPECT_NE(c.find("outcome=released"), std::string::npos) << c;
  EXPECT_NE(c.find("released for delivery"), std::string::npos) << c;
}

TEST(Attachments, BlockFastPathDecidesAtEndOfDataWithoutAHold) {
  Gateway gw;
  auto o = policy("block");
  o.push_back("attachments.fast_path_ms=3000");
  ASSERT_TRUE(gw.start(o)) << gw.log();
  std::string r = send(gw, with("paper.pdf", s::plain_pdf()));
  ASSERT_EQ(reply_code(r), 250) << r;
  ASSERT_TRUE(delivered(gw, 1));
  std::string t = trace_of(gw, queue_id(r));
  EXPECT_NE(t.find("hold=none (analysis finished within the fast path of 3000 ms)"), std::string::npos) << t;
  EXPECT_EQ(t.find("analysis pending"), std::string::npos) << t;
}

TEST(Attachments, HeldMessagesAreAnalysedAgainAfterARestart) {
  // A "clamd" that accepts connections and never answers keeps the analysis
  // of the held message running (its budget is a minute) until the kill.
  SilentListener silent;
  ASSERT_TRUE(silent.ok());
  Gateway gw;
  std::vector<std::string> o{"attachments.workers=1", "attachments.policy.0.action=block",
                             "attachments.policy.0.budget_ms=60000", "attachments.fast_path_ms=0"};
  auto slow = o;
  slow.push_back("attachments.clamd=" + silent.address());
  ASSERT_TRUE(gw.start(slow)) << gw.log();
  std::string r = send(gw, with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string id = queue_id(r);
  ASSERT_NE(trace_until(gw, id, "analysis pending").find("analysis pending"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  gw.kill9();
  silent.close();
  ASSERT_TRUE(gw.start(o)) << gw.log();  // no clamd now: the analysis finishes
  EXPECT_TRUE(quarantined(gw, id)) << gw.log();
  std::string t = trace_until(gw, id, "hold_done");
  EXPECT_NE(t.find("resumed after a restart"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome=quarantined"), std::string::npos) << t;
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
}

TEST(Attachments, MonitorSendsACopyOfMaliciousMailToTheCopyAddress) {
  Gateway gw;
  auto o = policy("monitor");
  o.push_back("attachments.policy.0.copy_to=soc@localhost");
  ASSERT_TRUE(gw.start(o)) << gw.log();
  std::string r = send(gw, with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250) << r;
  ASSERT_TRUE(delivered(gw, 1));  // the recipient gets it at once
  auto copies = wait_for_mail(gw.data_dir(), "soc@localhost", 1, std::chrono::seconds(10));
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_NE(copies[0].find("X-Mailmoat-Monitor-Copy: " + queue_id(r)), std::string::npos) << copies[0];
  EXPECT_NE(copies[0].find("Content-Type: message/rfc822"), std::string::npos);
  EXPECT_NE(copies[0].find("auto-exec macro autoopen"), std::string::npos);
  EXPECT_NE(copies[0].find("invoice.docm"), std::string::npos);
  EXPECT_NE(trace_of(gw, queue_id(r)).find("copy queued to soc@localhost"), std::string::npos);
  // A clean message is not copied.
  ASSERT_EQ(reply_code(send(gw, with("paper.pdf", s::plain_pdf()))), 250);
  ASSERT_TRUE(delivered(gw, 2));
  EXPECT_EQ(mailbox(gw.data_dir(), "soc@localhost").size(), 1u);
}

// The /v1/a link in a placeholder part, as a request target ("" when none).
std::string attachment_link(const std::string& mail, const std::string& http) {
  std::smatch m;
  std::regex re("http://" + std::regex_replace(http, std::regex(R"(\.)"), R"(\.)") +
                R"((/v1/a\?m=[A-Za-z0-9._%-]+&p=[0-9]+&s=[A-Za-z0-9_-]+))");
  return std::regex_search(mail, m, re) ? m[1].str() : std::string();
}

std::string param(const std::string& target, const std::string& name) {
  auto at = target.find(name + "=");
  if (at == std::string::npos) return {};
  auto end = target.find('&', at);
  return target.substr(at + name.size() + 1, end == std::string::npos ? std::string::npos : end - at - name.size() - 1);
}

std::vector<std::string> dynamic_policy(const std::string& http, bool deliver_original) {
  return {"http.listen=" + http, "attachments.workers=1", "attachments.policy.0.action=dynamic_delivery",
          "attachments.policy.0.budget_ms=10000", "attachments.fast_path_ms=0",
          std::string("attachments.policy.0.deliver_original=") + (deliver_original ? "true" : "false")};
}

TEST(Attachments, DynamicDeliveryDeliversThePlaceholderThenServesTheCleanFileAndTheOriginal) {
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  Gateway gw;
  ASSERT_TRUE(gw.start(dynamic_policy(http, true))) << gw.log();
  std::string r = send(gw, s::message("Body text arrives at once.", {{"paper.pdf", "application/pdf", s::plain_pdf()}}));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto box = wait_for_mail(gw.data_dir(), "u@localhost", 2, std::chrono::seconds(20));
  ASSERT_EQ(box.size(), 2u) << gw.log();
  const std::string& placeholder = box[0].find("X-Mailmoat-Dynamic-Delivery") == std::string::npos ? box[0] : box[1];
  const std::string& original = &placeholder == &box[0] ? box[1] : box[0];
  EXPECT_NE(placeholder.find("Body text arrives at once."), std::string::npos) << placeholder;
  EXPECT_NE(placeholder.find("is scanning the attachment \"paper.pdf\""), std::string::npos) << placeholder;
  EXPECT_EQ(placeholder.find("%PDF"), std::string::npos) << placeholder;
  EXPECT_NE(original.find("X-Mailmoat-Dynamic-Delivery: original; placeholder-copy=" + queue_id(r)), std::string::npos);
  EXPECT_NE(original.find("filename=\"paper.pdf\""), std::string::npos);

  std::string link = attachment_link(placeholder, http);
  ASSERT_FALSE(link.empty()) << placeholder;
  auto got = http_request(http, "GET", link);
  EXPECT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.body, s::plain_pdf());
  EXPECT_NE(got.headers.find("application/pdf"), std::string::npos) << got.headers;
  EXPECT_NE(got.headers.find("attachment; filename=\"paper.pdf\""), std::string::npos) << got.headers;
  EXPECT_NE(got.headers.find("nosniff"), std::string::npos) << got.headers;
  // A link whose signature does not match is refused; so is another part of the same message.
  std::string forged = link.substr(0, link.find("&p=")) + "&p=0&s=" + param(link, "s");
  EXPECT_EQ(http_request(http, "GET", forged).status, 403);
  std::string t = trace_until(gw, queue_id(r), "dynamic");
  EXPECT_NE(t.find("outcome=delivered (dynamic delivery"), std::string::npos) << t;
  std::string o = trace_until(gw, param(link, "m"), "hold_done");
  EXPECT_NE(o.find("the original in full"), std::string::npos) << o;
}

TEST(Attachments, DynamicDeliveryBlocksTheLinkAndQuarantinesAMaliciousOriginal) {
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  Gateway gw;
  ASSERT_TRUE(gw.start(dynamic_policy(http, true))) << gw.log();
  std::string r = send(gw, s::message("Invoice attached.", {{"invoice.docm", "application/octet-stream", s::docm_with_autoopen()}}));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto box = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(10));
  ASSERT_EQ(box.size(), 1u);
  std::string link = attachment_link(box[0], http);
  ASSERT_FALSE(link.empty()) << box[0];
  const std::string original_id = param(link, "m");
  EXPECT_TRUE(quarantined(gw, original_id)) << gw.log();
  auto blocked = http_request(http, "GET", link);
  EXPECT_EQ(blocked.status, 403);
  EXPECT_NE(blocked.body.find("auto-exec macro autoopen"), std::string::npos) << blocked.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(mailbox(gw.data_dir(), "u@localhost").size(), 1u);  // the original never arrives
}

TEST(Attachments, DynamicDeliveryWithoutDeliverOriginalServesTheFileOnly) {
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  Gateway gw;
  ASSERT_TRUE(gw.start(dynamic_policy(http, false))) << gw.log();
  std::string r = send(gw, s::message("Notes.", {{"notes.bin", "application/octet-stream", "harmless bytes"},
                                                  {"page.html", "text/html", "<p>plain page</p>"}}));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto box = wait_for_mail(gw.data_dir(), "u@localhost", 1, std::chrono::seconds(10));
  ASSERT_EQ(box.size(), 1u);
  std::string link = attachment_link(box[0], http);
  ASSERT_FALSE(link.empty()) << box[0];
  std::string o = trace_until(gw, param(link, "m"), "hold_done");
  EXPECT_NE(o.find("outcome=clean (dynamic delivery"), std::string::npos) << o;
  auto got = http_request(http, "GET", link);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "harmless bytes");
  // An HTML attachment is served as a download of octets, never as a page of our origin.
  std::string rest = box[0].substr(box[0].find(link) + link.size());
  std::string page_link = attachment_link(rest, http);
  ASSERT_FALSE(page_link.empty()) << box[0];
  auto page = http_request(http, "GET", page_link);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, "<p>plain page</p>");
  EXPECT_NE(page.headers.find("application/octet-stream"), std::string::npos) << page.headers;
  EXPECT_EQ(page.headers.find("text/html"), std::string::npos) << page.headers;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(mailbox(gw.data_dir(), "u@localhost").size(), 1u);
}

// CAPE v2: a local server following CAPE's documented REST API
// (tests/integration/scripts/fake_cape.py), not a real CAPE.
TEST(Attachments, SuspiciousFilesGoToCapeAfterQueueingAndItsScoreDecides) {
  TempDir dir;
  const int port = free_port();
  Process cape({"/usr/bin/python3", std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/fake_cape.py",
                std::to_string(port), dir.file("cape.log")});
  ASSERT_TRUE(wait_for_port("127.0.0.1:" + std::to_string(port)));
  Gateway gw;
  ASSERT_TRUE(gw.start({"attachments.workers=1", "attachments.block_at=malicious", "attachments.policy.0.action=block",
                        "attachments.policy.0.budget_ms=20000", "attachments.cape=127.0.0.1:" + std::to_string(port),
                        "attachments.cape_token=secret-cape-token", "attachments.cape_poll_ms=100"}))
      << gw.log();
  // A script the static analyzers call suspicious; CAPE's score 9 makes it malicious.
  std::string bad = send(gw, with("run.js", "var s = new ActiveXObject('WScript.Shell'); s.Run('calc');"));
  ASSERT_EQ(reply_code(bad), 250) << bad;
  // The same kind of file that CAPE scores 1: delivered (block_at = malicious).
  std::string fine = send(gw, with("tool.js", "console.log('hello');"));
  ASSERT_EQ(reply_code(fine), 250) << fine;
  EXPECT_TRUE(quarantined(gw, queue_id(bad))) << gw.log();
  ASSERT_TRUE(delivered(gw, 1));
  EXPECT_NE(mailbox(gw.data_dir(), "u@localhost")[0].find("tool.js"), std::string::npos);
  std::string t = trace_until(gw, queue_id(bad), "hold_done");
  EXPECT_NE(t.find("verdict=pending"), std::string::npos) << t;
  EXPECT_NE(t.find("cape: score 9.0"), std::string::npos) << t;
  std::string f = trace_until(gw, queue_id(fine), "hold_done");
  EXPECT_NE(f.find("analyzers=triage,names"), std::string::npos) << f;
  EXPECT_NE(f.find("cape"), std::string::npos) << f;
  std::ifstream in(dir.file("cape.log"));
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("submit 1 Token secret-cape-token"), std::string::npos) << log;
  EXPECT_NE(log.find("view 1 running"), std::string::npos) << log;  // polled until reported
  EXPECT_NE(log.find("report 1 9.0"), std::string::npos) << log;
  EXPECT_EQ(gw.log().find("secret-cape-token"), std::string::npos);  // never logged
}

// clamd with a database written here (TESTING.md: no freshclam, no network).
class Clamd {
 public:
  Clamd() {
    dir_.write("eicar.com", s::eicar());
    std::filesystem::create_directories(dir_.file("db"));
    std::string md5 = run_shell("md5sum < " + dir_.file("eicar.com") + " | cut -d' ' -f1");
    std::ofstream(dir_.file("db/test.hdb")) << md5 << ":" << s::eicar().size() << ":Test.EICAR.Own\n";
    std::ofstream(dir_.file("clamd.conf")) << "DatabaseDirectory " << dir_.file("db") << "\nLocalSocket "
                                          << socket() << "\nForeground yes\nUser root\nStreamMaxLength 100M\n";
    process_.start({"/usr/sbin/clamd", "-c", dir_.file("clamd.conf")}, dir_.file("clamd.log"));
    for (int i = 0; i < 300 && !std::filesystem::exists(socket()); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string socket() const { return dir_.file("clamd.sock"); }
  bool ready() const { return std::filesystem::exists(socket()); }

 private:
  static std::string run_shell(const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[256];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    if (p) pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  TempDir dir_;
  Process process_;
};

TEST(Attachments, EicarPlainInZipAndInZipIn7zFoundByClamd) {
  if (access("/usr/sbin/clamd", X_OK) != 0) GTEST_SKIP() << "clamd not installed (scripts/install-deps)";
  Clamd clamd;
  ASSERT_TRUE(clamd.ready());
  Gateway gw;
  auto o = policy("block");
  o.push_back("attachments.clamd=unix:" + clamd.socket());
  ASSERT_TRUE(gw.start(o)) << gw.log();
  std::string zip = s::archive({{"eicar.com", s::eicar()}});
  std::vector<std::pair<std::string, std::string>> samples{
      {"eicar.txt", s::eicar()}, {"eicar.zip", zip}, {"eicar.7z", s::archive({{"inner.zip", zip}}, "7zip")}};
  for (const auto& [name, content] : samples) {
    std::string r = send(gw, with(name, content));
    ASSERT_EQ(reply_code(r), 250) << r;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(quarantined(gw, queue_id(r))) << name;
    std::string t = trace_of(gw, queue_id(r));
    EXPECT_NE(t.find("clamav: Test.EICAR.Own.UNOFFICIAL"), std::string::npos) << name << ": " << t;
  }
  ASSERT_EQ(reply_code(send(gw, with("paper.pdf", s::plain_pdf()))), 250);
  EXPECT_TRUE(delivered(gw, 1));
}

// A rule's notification goes out only once the message's fate is final. Here
// the attachment analysis (a clamd that never answers) overruns the filter
// budget, the client is told 451 and will send the message again: the rule that
// matched before Safe Attachments must not have notified anyone, else every
// retry would notify again.
TEST(Attachments, RuleNotifyWaitsWhileTheChecksEndInATemporaryFailure) {
  SilentListener silent;
  ASSERT_TRUE(silent.ok());
  TempDir d;
  d.write("rules.toml", R"(
[[rule]]
name = "tell"
priority = 1
conditions = [{ subject = ["TOKEN-NOTIFY"] }]
[[rule.actions]]
notify = { to = ["security@localhost"], subject = "Rule {rule} matched", text = "Matched {rule}." }
)");
  Gateway gw;
  ASSERT_TRUE(gw.start({"attachments.workers=1", "attachments.policy.0.action=replace",
                        "attachments.policy.0.budget_ms=60000", "attachments.clamd=" + silent.address(),
                        "smtp.filter_budget_ms=1500", "rules.file=" + d.file("rules.toml")}))
      << gw.log();
  std::string r = send(gw, s::message("Please see the file.", {{"paper.pdf", "application/pdf", s::plain_pdf()}},
                                      "sender@example.org", "u@localhost", "TOKEN-NOTIFY report"));
  EXPECT_EQ(reply_code(r), 451) << r;
  EXPECT_TRUE(gw.wait_for_log("smtp.filter_budget_exceeded", std::chrono::seconds(10)));
  EXPECT_TRUE(wait_for_mail(gw.data_dir(), "security@localhost", 1, std::chrono::seconds(5)).empty());
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
  silent.close();
}

}  // namespace
}  // namespace mailmoat::testing
