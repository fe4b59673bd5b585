// Transport rules through the admin API: POST /api/v1/rules/test answers what
// `mailmoat rules test --json` answers for the same rules and message;
// POST /api/v1/rules/reload activates an edited file, and a broken file is
// refused with FILE:LINE while the previous rules keep working.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "harness.h"

namespace mailmoat::testing {

namespace {

constexpr const char* kRules = R"(
[[rule]]
name = "hold for review"
priority = 1
conditions = [{ subject = { words = ["TOKEN-Q"] } }]
actions = [{ quarantine = true }]
)";

constexpr const char* kEdited = R"(
[[rule]]
name = "hold for review"
priority = 1
conditions = [{ subject = { words = ["TOKEN-Q"] } }]
actions = [{ quarantine = true }]

[[rule]]
name = "no R1"
priority = 2
conditions = [{ subject = { words = ["TOKEN-R"] } }]
actions = [{ reject = { status = "5.7.901", text = "No R1 here" } }]
)";

std::string admin_token(const Gateway& gw) {
  std::ifstream in(gw.data_dir() + "/var/admin.token");
  std::string t;
  std::getline(in, t);
  return t;
}

HttpReply api(const Gateway& gw, const std::string& target, const std::string& token, const std::string& body) {
  return http_request(gw.http_address(), "POST", target, body, {"Authorization: Bearer " + token});
}

}  // namespace

TEST(RulesApi, TestAnswersAsTheCliAndReloadKeepsTheOldSetOnErrors) {
  TempDir dir;
  const std::string rules = dir.file("rules.toml");
  std::ofstream(rules) << kRules;
  Gateway gw;
  ASSERT_TRUE(gw.start({"rules.file=" + rules})) << gw.log();
  auto v = run({"admin", "token", "create", "--name", "helpdesk", "--role", "viewer", "--set",
                "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + gw.http_address()});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  const std::string viewer = v.out.substr(0, v.out.find('\n'));
  const std::string msg = "From: a@example.org\r\nSubject: please TOKEN-Q now\r\n\r\nhello\r\n";
  const std::string query = "?ip=192.0.2.7&mail_from=a@example.org&rcpt=u@localhost";

  auto r = api(gw, "/api/v1/rules/test" + query, viewer, msg);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["outcome"], "quarantine");
  ASSERT_EQ(j["matched"].size(), 1u);
  EXPECT_EQ(j["matched"][0]["rule"], "hold for review");
  // The CLI on the same file and message gives the same object.
  std::ofstream(dir.file("m.eml")) << msg;
  auto cli = run({"rules", "test", "--rules", rules, "--ip", "192.0.2.7", "--mail-from", "a@example.org", "--rcpt",
                  "u@localhost", "--json", dir.file("m.eml")});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(nlohmann::json::parse(cli.out), j);

  EXPECT_EQ(api(gw, "/api/v1/rules/reload", viewer, "").status, 403);
  EXPECT_EQ(api(gw, "/api/v1/rules/test?bogus=1", viewer, msg).status, 400);
  EXPECT_EQ(api(gw, "/api/v1/rules/test", viewer, "").status, 400);

  // An edited file: reload activates the second rule.
  std::ofstream(rules, std::ios::trunc) << kEdited;
  auto ok = api(gw, "/api/v1/rules/reload", admin_token(gw), "");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(nlohmann::json::parse(ok.body)["rules"], 2);
  EXPECT_EQ(nlohmann::json::parse(ok.body)["loaded_from"], rules);
  auto r2 = api(gw, "/api/v1/rules/test", viewer, "Subject: TOKEN-R\r\n\r\nx\r\n");
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(nlohmann::json::parse(r2.body)["outcome"], "reject");

  // A broken file: 422 with FILE:LINE, and the two rules stay active.
  std::ofstream(rules, std::ios::trunc) << "[[rule]]\nname = \"broken\"\npriority = 1\nconditions = [{ nonsense = 1 }]\n"
                                            "actions = [{ reject = true }]\n";
  auto bad = api(gw, "/api/v1/rules/reload", admin_token(gw), "");
  ASSERT_EQ(bad.status, 422) << bad.body;
  auto bj = nlohmann::json::parse(bad.body);
  ASSERT_FALSE(bj["errors"].empty()) << bad.body;
  EXPECT_EQ(bj["errors"][0].get<std::string>().rfind(rules + ":4:", 0), 0u) << bad.body;
  auto r3 = api(gw, "/api/v1/rules/test", viewer, "Subject: TOKEN-R\r\n\r\nx\r\n");
  EXPECT_EQ(nlohmann::json::parse(r3.body)["outcome"], "reject") << r3.body;

  auto audit = http_request(gw.http_address(), "GET", "/api/v1/audit", "", {"Authorization: Bearer " + admin_token(gw)});
  EXPECT_NE(audit.body.find("\"rules.reload\""), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("\"rules.reload_failed\""), std::string::npos) << audit.body;
}

}  // namespace mailmoat::testing
