// The quarantine through the real gateway: a DMARC p=quarantine failure is
// stored (not delivered), listed and shown by `mailmoat quarantine`, traced,
// downloaded as .eml, released to one of its recipients (delivered with the
// release header), deleted; every admin action is in the audit log, and the
// API refuses what it must.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "unbound_process.h"

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

std::string token_of(const Gateway& gw) {
  std::ifstream in(gw.data_dir() + "/var/admin.token");
  std::string t;
  std::getline(in, t);
  return t;
}

// Waits until `mailmoat quarantine list --json` shows `n` items in `state`.
nlohmann::json wait_for_items(const Gateway& gw, std::size_t n, const std::string& state = "held") {
  nlohmann::json j;
  for (int i = 0; i < 100; ++i) {
    auto r = cli(gw, {"quarantine", "list", "--state", state, "--json"});
    j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_discarded() && j["items"].size() >= n) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return j;
}

const char* kZone =
    "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
    "  local-data: 'soft.example.net. TXT \"v=spf1 -all\"'\n"
    "  local-data: '_dmarc.soft.example.net. TXT \"v=DMARC1; p=quarantine\"'\n";

}  // namespace

TEST(Quarantine, DmarcQuarantineIsStoredShownReleasedAndDeleted) {
  test_support::UnboundProcess dns("quarantine");
  ASSERT_TRUE(dns.start(kZone));
  Gateway gw;
  ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns.port()) + "\"]",
                        "quarantine.retention_days_by_reason=[\"spoof=7\"]"}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  const std::string body =
      "From: payroll@soft.example.net\r\nSubject: update your bank details\r\nMessage-ID: <q1@soft.example.net>\r\n"
      "\r\nPlease reply with your account number.\r\n";
  std::string r = c.send_message("payroll@soft.example.net", {"a@localhost", "b@localhost"}, body);
  ASSERT_EQ(reply_code(r), 250) << r;
  const std::string queue_id = r.substr(r.find("queued as ") + 10, r.find("\r\n") - r.find("queued as ") - 10);

  auto listed = wait_for_items(gw, 1);
  ASSERT_EQ(listed["items"].size(), 1u) << listed.dump();
  const auto& item = listed["items"][0];
  const long long id = item["id"];
  EXPECT_EQ(item["reason"], "spoof");
  EXPECT_EQ(item["queue_id"], queue_id);
  EXPECT_EQ(item["subject"], "update your bank details");
  EXPECT_EQ(item["recipients"], nlohmann::json({"a@localhost", "b@localhost"}));
  // spoof=7 days, not the 30-day default.
  EXPECT_NEAR(static_cast<double>(item["expires_at"].get<long long>() - item["created_at"].get<long long>()),
              7.0 * 86400 * 1e6, 1e6);
  EXPECT_TRUE(mailbox(gw.data_dir(), "a@localhost").empty());
  // Stored: nothing of it stays in the queue.
  auto q = cli(gw, {"queue", "list"});
  EXPECT_EQ(q.out.find(queue_id), std::string::npos) << q.out;

  auto shown = cli(gw, {"quarantine", "show", std::to_string(id)});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("DMARC policy"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("payroll@soft.example.net"), std::string::npos) << shown.out;

  // The trace says where it went.
  std::string trace;
  for (int i = 0; i < 50; ++i) {
    trace = cli(gw, {"trace", "show", queue_id}).out;
    if (trace.find("quarantined") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(trace.find("quarantined"), std::string::npos) << trace;

  // Download: the message with the gateway's Authentication-Results.
  const std::string eml = gw.data_dir() + "/q.eml";
  auto dl = cli(gw, {"quarantine", "download", std::to_string(id), "-o", eml});
  ASSERT_EQ(dl.exit_code, 0) << dl.err;
  std::ifstream in(eml, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find("Please reply with your account number."), std::string::npos);
  EXPECT_NE(ss.str().find("dmarc=fail"), std::string::npos) << ss.str();

  // Release to a stranger is refused; release to b only delivers to b.
  auto stranger = cli(gw, {"quarantine", "release", std::to_string(id), "--to", "mallory@example.org"});
  EXPECT_EQ(stranger.exit_code, 1);
  EXPECT_NE(stranger.err.find("not a recipient"), std::string::npos) << stranger.err;
  auto released = cli(gw, {"quarantine", "release", std::to_string(id), "--to", "b@localhost"});
  ASSERT_EQ(released.exit_code, 0) << released.err;
  auto mail = wait_for_mail(gw.data_dir(), "b@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("X-Mailmoat-Released: quarantine=" + std::to_string(id) + "; by=admin-token"),
            std::string::npos)
      << mail[0];
  EXPECT_NE(mail[0].find("Please reply with your account number."), std::string::npos);
  EXPECT_TRUE(mailbox(gw.data_dir(), "a@localhost").empty());
  auto again = cli(gw, {"quarantine", "release", std::to_string(id)});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("not held"), std::string::npos) << again.err;
  EXPECT_EQ(wait_for_items(gw, 1, "released")["items"].size(), 1u);

  // A second message, deleted.
  SmtpClient c2;
  ASSERT_TRUE(c2.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c2.send_message("payroll@soft.example.net", {"a@localhost"}, body)), 250);
  auto second = wait_for_items(gw, 1, "held");
  ASSERT_EQ(second["items"].size(), 1u);
  const long long id2 = second["items"][0]["id"];
  ASSERT_EQ(cli(gw, {"quarantine", "delete", std::to_string(id2)}).exit_code, 0);
  EXPECT_EQ(cli(gw, {"quarantine", "download", std::to_string(id2), "-o", eml}).exit_code, 1);
  EXPECT_EQ(wait_for_items(gw, 1, "deleted")["items"].size(), 1u);

  // Every action is audited.
  auto audit = http_request(gw.http_address(), "GET", "/api/v1/audit", {}, {"Authorization: Bearer " + token_of(gw)});
  ASSERT_EQ(audit.status, 200);
  auto entries = nlohmann::json::parse(audit.body)["entries"];
  std::string actions;
  for (const auto& e : entries) actions += e["action"].get<std::string>() + " ";
  EXPECT_NE(actions.find("quarantine.download"), std::string::npos) << actions;
  EXPECT_NE(actions.find("quarantine.release"), std::string::npos) << actions;
  EXPECT_NE(actions.find("quarantine.delete"), std::string::npos) << actions;
}

TEST(Quarantine, ApiRefusesMissingTokenBadIdsAndUnknownParameters) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  const std::string auth = "Authorization: Bearer " + token_of(gw);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine").status, 401);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/quarantine/1/release", "{}").status, 401);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/audit").status, 401);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine?color=red", {}, {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine?state=lost", {}, {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine/..%2F..%2Fetc", {}, {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine/1'%20OR%201=1", {}, {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine/999", {}, {auth}).status, 404);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/quarantine/999/release", "{\"to\": 3}", {auth}).status,
            400);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/quarantine/999/release", "not json", {auth}).status, 400);
  EXPECT_EQ(http_request(gw.http_address(), "POST", "/api/v1/quarantine/999/release", "{}", {auth}).status, 409);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine?sender=%27%3B%20DROP%20TABLE%20quarantine%3B--",
                         {}, {auth})
                .status,
            200);
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/quarantine", {}, {auth}).status, 200);
}

}  // namespace mailmoat::testing
