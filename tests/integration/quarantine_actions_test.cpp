// Quarantine preview, "allow the sender" and "report as false positive"
// through the real gateway: a DNSBL-listed client's mail is quarantined as
// spam, previewed by a viewer (headers decoded, HTML reduced to text,
// attachments listed), its sender allowed by an admin, after which the same
// sender (SPF pass) is delivered; an unauthenticated sender on the list is
// not. A banned attachment's item (malware) is previewed by admins only, with
// the verdict the trace recorded. Every action is audited.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

namespace {

std::vector<std::string> cli_target(const Gateway& gw) {
  return {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + gw.http_address()};
}

CommandResult cli(const Gateway& gw, std::vector<std::string> args) {
  auto extra = cli_target(gw);
  args.insert(args.end(), extra.begin(), extra.end());
  return run(args);
}

std::string create_token(const Gateway& gw, const std::string& name, const std::string& role) {
  auto r = cli(gw, {"admin", "token", "create", "--name", name, "--role", role});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, r.out.find('\n'));
}

HttpReply api(const Gateway& gw, const std::string& method, const std::string& target, const std::string& token,
              const std::string& body = "") {
  return http_request(gw.http_address(), method, target, method == "POST" && body.empty() ? "{}" : body,
                      {"Authorization: Bearer " + token});
}

std::string admin_token(const Gateway& gw) {
  std::ifstream in(gw.data_dir() + "/var/admin.token");
  std::string t;
  std::getline(in, t);
  return t;
}

// The held item of `queue_id`, polled (storing follows the 250).
nlohmann::json item_of(const Gateway& gw, const std::string& queue_id) {
  for (int i = 0; i < 100; ++i) {
    auto j = nlohmann::json::parse(cli(gw, {"quarantine", "list", "--json"}).out, nullptr, false);
    if (!j.is_discarded())
      for (const auto& item : j["items"])
        if (item.value("queue_id", "") == queue_id) return item;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return nullptr;
}

std::string queue_id_of(const std::string& reply) {
  auto at = reply.find("queued as ");
  if (at == std::string::npos) return {};
  return reply.substr(at + 10, reply.find("\r\n") - at - 10);
}

std::string send(const Gateway& gw, const std::string& from, const std::string& body) {
  SmtpClient c;
  if (!c.connect(gw.smtp_address())) return "connect failed";
  return c.send_message(from, {"a@localhost"}, body);
}

// SPF for the two senders and a DNS block list listing 127.0.0.1, answered by the zone-file resolver.
constexpr const char* kZone = R"(
$ORIGIN good.example.net.
$TTL 300
@       IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
$ORIGIN soft.example.net.
@       IN TXT "v=spf1 -all"
$ORIGIN bl.test.
1.0.0.127 IN A 127.0.0.2
)";

const std::string kNewsletter =
    "From: =?UTF-8?Q?Caf=C3=A9_News?= <news@good.example.net>\r\n"
    "Subject: =?UTF-8?B?V2Vla2x5IG1lbnUg4piV?=\r\nMessage-ID: <n1@good.example.net>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    "<html><head><style>p{color:red}</style></head><body><script>alert('x')</script>"
    "<p>This week: soup</p><a href=\"https://good.example.net/menu\">Menu</a></body></html>\r\n"
    "--b1\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"menu.txt\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b1--\r\n";

}  // namespace

TEST(QuarantineActions, PreviewAllowSenderAndFalsePositive) {
  Gateway gw;
  std::ofstream(gw.zone_file()) << kZone;
  ASSERT_TRUE(gw.start({"connection.dnsbl_zones=[\"bl.test\"]", "smtp.accepted_domains=[\"localhost\"]"}))
      << gw.log();
  const std::string viewer = create_token(gw, "helpdesk", "viewer");

  std::string r = send(gw, "news@good.example.net", kNewsletter);
  ASSERT_EQ(reply_code(r), 250) << r;
  auto item = item_of(gw, queue_id_of(r));
  ASSERT_TRUE(item.is_object()) << gw.log();
  EXPECT_EQ(item["reason"], "spam");
  const std::string id = std::to_string(item["id"].get<long long>());

  // A viewer previews spam: decoded headers, the HTML as text, the attachment listed.
  auto p = api(gw, "GET", "/api/v1/quarantine/" + id + "/preview", viewer);
  ASSERT_EQ(p.status, 200) << p.body;
  auto j = nlohmann::json::parse(p.body);
  EXPECT_EQ(j["id"].get<long long>(), item["id"].get<long long>());
  bool subject_seen = false, from_seen = false;
  for (const auto& h : j["headers"]) {
    subject_seen |= h["name"] == "Subject" && h["value"] == "Weekly menu \xE2\x98\x95";
    from_seen |= h["name"] == "From" && h["value"] == "Caf\xC3\xA9 News <news@good.example.net>";
  }
  EXPECT_TRUE(subject_seen && from_seen) << j["headers"].dump();
  EXPECT_EQ(j["text"], "");
  EXPECT_EQ(j["html_as_text"], "This week: soup\nMenu <https://good.example.net/menu>");
  ASSERT_EQ(j["attachments"].size(), 1u);
  EXPECT_EQ(j["attachments"][0]["name"], "menu.txt");
  EXPECT_EQ(j["attachments"][0]["size"], 5);
  EXPECT_EQ(j["attachments"][0]["sha256"], "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  auto shown = cli(gw, {"quarantine", "preview", id});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("Subject: Weekly menu"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("menu.txt"), std::string::npos) << shown.out;

  // Viewers may not act; an admin allows the sender and reports the false positive.
  EXPECT_EQ(api(gw, "POST", "/api/v1/quarantine/" + id + "/allow-sender", viewer).status, 403);
  EXPECT_EQ(api(gw, "POST", "/api/v1/quarantine/" + id + "/false-positive", viewer).status, 403);
  auto allowed = cli(gw, {"quarantine", "allow-sender", id, "--json"});
  ASSERT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_EQ(nlohmann::json::parse(allowed.out)["sender"], "news@good.example.net");
  auto fp = cli(gw, {"quarantine", "false-positive", id, "--note", "our canteen newsletter"});
  ASSERT_EQ(fp.exit_code, 0) << fp.err;
  EXPECT_EQ(cli(gw, {"quarantine", "false-positive", id}).exit_code, 1);  // once
  auto fps = api(gw, "GET", "/api/v1/false-positives", viewer);
  ASSERT_EQ(fps.status, 200) << fps.body;
  auto fj = nlohmann::json::parse(fps.body);
  ASSERT_EQ(fj["items"].size(), 1u) << fps.body;
  EXPECT_EQ(fj["items"][0]["id"].get<long long>(), item["id"].get<long long>());
  EXPECT_EQ(fj["items"][0]["by"], "admin-token");
  EXPECT_EQ(fj["items"][0]["note"], "our canteen newsletter");
  EXPECT_EQ(fj["items"][0]["sender"], "news@good.example.net");

  // The next newsletter (SPF pass) is delivered despite the DNSBL listing.
  std::string again = send(gw, "news@good.example.net", kNewsletter);
  ASSERT_EQ(reply_code(again), 250) << again;
  auto mail = wait_for_mail(gw.data_dir(), "a@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string allowed_trace;
  for (int i = 0; i < 50 && allowed_trace.find("sender allow list (SCL -1)") == std::string::npos; ++i) {
    allowed_trace = cli(gw, {"trace", "show", queue_id_of(again)}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(allowed_trace.find("news@good.example.net is on the sender allow list (SCL -1)"), std::string::npos)
      << allowed_trace;

  // An unauthenticated sender on the list is not trusted (SPF fails): still quarantined.
  std::string spoofy = "From: payroll@soft.example.net\r\nSubject: bank details\r\n\r\nReply please.\r\n";
  std::string s1 = send(gw, "payroll@soft.example.net", spoofy);
  auto spoof_item = item_of(gw, queue_id_of(s1));
  ASSERT_TRUE(spoof_item.is_object());
  const std::string sid = std::to_string(spoof_item["id"].get<long long>());
  ASSERT_EQ(cli(gw, {"quarantine", "allow-sender", sid}).exit_code, 0);
  std::string s2 = send(gw, "payroll@soft.example.net", spoofy);
  EXPECT_TRUE(item_of(gw, queue_id_of(s2)).is_object());
  auto trace = cli(gw, {"trace", "show", queue_id_of(s2)}).out;
  EXPECT_NE(trace.find("neither SPF nor DMARC passed"), std::string::npos) << trace;

  auto audit = api(gw, "GET", "/api/v1/audit", admin_token(gw));
  ASSERT_EQ(audit.status, 200);
  for (const char* action : {"quarantine.preview", "quarantine.allow_sender", "quarantine.false_positive"})
    EXPECT_NE(audit.body.find(action), std::string::npos) << action << " " << audit.body;
  EXPECT_NE(audit.body.find("sender=news@good.example.net"), std::string::npos) << audit.body;
}

TEST(QuarantineActions, MalwarePreviewIsForAdminsAndShowsTheTracedVerdict) {
  Gateway gw;
  ASSERT_TRUE(gw.start({"attachments.policy.0.action=off", "attachments.workers=1",
                        "attachments.banned_extensions=[\"scr\"]"}))
      << gw.log();
  const std::string viewer = create_token(gw, "helpdesk", "viewer");
  std::string msg =
      "From: x@example.org\r\nSubject: screensaver\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nEnjoy.\r\n"
      "--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"fun.scr\"\r\n\r\nnot really\r\n--b--\r\n";
  std::string r = send(gw, "x@example.org", msg);
  ASSERT_EQ(reply_code(r), 250) << r;
  auto item = item_of(gw, queue_id_of(r));
  ASSERT_TRUE(item.is_object()) << gw.log();
  EXPECT_EQ(item["reason"], "malware");
  const std::string path = "/api/v1/quarantine/" + std::to_string(item["id"].get<long long>()) + "/preview";
  EXPECT_EQ(api(gw, "GET", path, viewer).status, 403);
  nlohmann::json j;
  for (int i = 0; i < 50; ++i) {  // the trace's attachment facts arrive asynchronously
    auto p = api(gw, "GET", path, admin_token(gw));
    ASSERT_EQ(p.status, 200) << p.body;
    j = nlohmann::json::parse(p.body);
    if (j["attachments"].size() == 1 && j["attachments"][0]["verdict"] != "not_analyzed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(j["attachments"].size(), 1u) << j.dump();
  EXPECT_EQ(j["attachments"][0]["name"], "fun.scr");
  EXPECT_EQ(j["attachments"][0]["verdict"], "malicious") << j.dump();
  EXPECT_EQ(j["text"], "Enjoy.");
  EXPECT_EQ(api(gw, "GET", "/api/v1/quarantine/999999/preview", viewer).status, 404);
  EXPECT_EQ(api(gw, "GET", "/api/v1/quarantine/..%2f1/preview", viewer).status, 400);
}

}  // namespace mailmoat::testing
