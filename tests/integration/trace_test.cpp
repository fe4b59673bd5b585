// The message trace through the real gateway: a delivered message, a refused
// one and a held one show up in `mailmoat trace` and the admin API with their
// timelines; the API refuses requests without the token.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

#include "harness.h"
#include "unbound_process.h"

namespace mailmoat::testing {

namespace {
std::vector<std::string> cli_target(const Gateway& gw) {
  return {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + gw.http_address()};
}
CommandResult trace_cli(const Gateway& gw, std::vector<std::string> args) {
  args.insert(args.begin(), "trace");
  auto extra = cli_target(gw);
  args.insert(args.end(), extra.begin(), extra.end());
  return run(args);
}
std::size_t records_found(const CommandResult& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? 9999 : j["records"].size();
}
}  // namespace

TEST(Trace, DeliveredRefusedAndHeldMessagesHaveTimelines) {
  test_support::UnboundProcess dns("trace");
  ASSERT_TRUE(dns.start("  module-config: \"iterator\"\n  local-zone: \".\" static\n"
                        "  local-data: 'strict.example.net. TXT \"v=spf1 -all\"'\n"
                        "  local-data: '_dmarc.strict.example.net. TXT \"v=DMARC1; p=reject\"'\n"));
  Gateway gw;
  ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns.port()) + "\"]"}))
      << gw.log();
  SmtpClient a;
  ASSERT_TRUE(a.connect(gw.smtp_address()));
  std::string ok = a.send_message("alice@example.org", {"u@localhost"},
                                  "From: alice@example.org\r\nSubject: quarterly report\r\nMessage-ID: <q1@example.org>\r\n\r\nhi\r\n");
  ASSERT_EQ(reply_code(ok), 250);
  std::string id = ok.substr(ok.find("queued as ") + 10, ok.find("\r\n") - ok.find("queued as ") - 10);
  SmtpClient b;
  ASSERT_TRUE(b.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(b.send_message("ceo@strict.example.net", {"u@localhost"},
                                      "From: ceo@strict.example.net\r\nSubject: wire\r\n\r\nnow\r\n")),
            550);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u);

  // The recorder writes in batches: wait until the delivery shows.
  std::string out;
  for (int i = 0; i < 100; ++i) {
    auto r = trace_cli(gw, {"search", "--recipient", "*@localhost"});
    out = r.out + r.err;
    if (out.find("delivered") != std::string::npos && out.find("rejected") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(out.find(id), std::string::npos) << out;
  EXPECT_NE(out.find("delivered"), std::string::npos) << out;
  EXPECT_NE(out.find("rejected"), std::string::npos) << out;
  EXPECT_NE(out.find("quarterly report"), std::string::npos) << out;

  auto shown = trace_cli(gw, {"show", id});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("received"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("authentication"), std::string::npos) << shown.out;
  EXPECT_NE(shown.out.find("delivery_attempt u@localhost -> delivered"), std::string::npos) << shown.out;

  auto by_sender = trace_cli(gw, {"search", "--sender", "ceo@*", "--since", "1h", "--json"});
  auto j = nlohmann::json::parse(by_sender.out);
  ASSERT_EQ(j["records"].size(), 1u) << by_sender.out;
  EXPECT_EQ(j["records"][0]["status"], "rejected");

  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/trace").status, 401);
  EXPECT_EQ(trace_cli(gw, {"search", "--status", "bogus"}).exit_code, 1);
  EXPECT_EQ(trace_cli(gw, {"search", "--since", "yesterday-ish"}).exit_code, 2);
}

// Subject words, client IP and direction: each finds the message through the
// CLI and through the API, and a value that does not fit finds nothing.
TEST(Trace, SearchBySubjectWordsClientIpAndDirection) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string ok = c.send_message("carol@example.org", {"u@localhost"},
                                  "From: carol@example.org\r\nSubject: Budget review for March\r\n\r\nhi\r\n");
  ASSERT_EQ(reply_code(ok), 250) << ok;
  const std::string id = ok.substr(ok.find("queued as ") + 10, ok.find("\r\n") - ok.find("queued as ") - 10);
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 1).size(), 1u);
  for (int i = 0; i < 200; ++i) {
    if (records_found(trace_cli(gw, {"search", "--json"})) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  struct Case {
    std::vector<std::string> flags;
    std::string query;
    std::size_t expected;
  };
  const std::vector<Case> cases{
      {{"--subject", "review march"}, "subject=review%20march", 1},
      {{"--subject", "budget"}, "subject=budget", 1},
      {{"--subject", "budget invoice"}, "subject=budget%20invoice", 0},
      {{"--client-ip", "127.0.0.1"}, "client_ip=127.0.0.1", 1},
      {{"--client-ip", "192.0.2.7"}, "client_ip=192.0.2.7", 0},
      {{"--direction", "inbound"}, "direction=inbound", 1},
      {{"--direction", "outbound"}, "direction=outbound", 0},
      {{"--subject", "budget", "--client-ip", "127.0.0.1", "--direction", "inbound"},
       "subject=budget&client_ip=127.0.0.1&direction=inbound", 1},
  };
  std::ifstream tf(gw.data_dir() + "/var/admin.token");
  std::string token;
  std::getline(tf, token);
  for (const auto& k : cases) {
    std::vector<std::string> args{"search", "--json"};
    args.insert(args.end(), k.flags.begin(), k.flags.end());
    auto r = trace_cli(gw, args);
    ASSERT_EQ(r.exit_code, 0) << k.query << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["records"].size(), k.expected) << k.query << ": " << r.out;
    if (k.expected == 1) {
      EXPECT_EQ(j["records"][0]["trace_id"], id);
    }
    auto api = http_request(gw.http_address(), "GET", "/api/v1/trace?" + k.query, "", {"Authorization: Bearer " + token});
    ASSERT_EQ(api.status, 200) << k.query << ": " << api.body;
    auto a = nlohmann::json::parse(api.body);
    ASSERT_EQ(a["records"].size(), k.expected) << k.query << ": " << api.body;
    if (k.expected == 1) {
      EXPECT_EQ(a["records"][0]["trace_id"], id);
    }
  }
  // The table output names the message as well.
  auto table = trace_cli(gw, {"search", "--subject", "budget", "--direction", "inbound"});
  EXPECT_NE(table.out.find(id), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 record(s)"), std::string::npos) << table.out;

  // Bad values: a clear error naming the flag, a non-zero exit, nothing searched.
  auto bad_direction = trace_cli(gw, {"search", "--direction", "sideways"});
  EXPECT_EQ(bad_direction.exit_code, 2);
  EXPECT_NE(bad_direction.err.find("--direction"), std::string::npos) << bad_direction.err;
  auto bad_ip = trace_cli(gw, {"search", "--client-ip", "127.0.0.1; DROP TABLE trace"});
  EXPECT_EQ(bad_ip.exit_code, 2);
  EXPECT_NE(bad_ip.err.find("--client-ip"), std::string::npos) << bad_ip.err;
  auto no_words = trace_cli(gw, {"search", "--subject", "  "});
  EXPECT_EQ(no_words.exit_code, 2);
  EXPECT_NE(no_words.err.find("--subject"), std::string::npos) << no_words.err;
  EXPECT_EQ(http_request(gw.http_address(), "GET", "/api/v1/trace?direction=sideways", "",
                         {"Authorization: Bearer " + token}).status,
            400);
  // SQL metacharacters in every text field: a search that finds nothing, and the trace still there.
  const std::string sql = "%27%3B%20DROP%20TABLE%20trace_records%3B--%20%22%5C%25_";
  for (const char* field : {"sender", "recipient", "message_id", "subject", "client_ip"}) {
    auto r = http_request(gw.http_address(), "GET", "/api/v1/trace?" + std::string(field) + "=" + sql, "",
                          {"Authorization: Bearer " + token});
    EXPECT_EQ(r.status, 200) << field << ": " << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << field << ": " << r.body;
    EXPECT_TRUE(j["records"].empty()) << field << ": " << r.body;
  }
  EXPECT_EQ(records_found(trace_cli(gw, {"search", "--json", "--subject", "budget"})), 1u);
}

}  // namespace mailmoat::testing
