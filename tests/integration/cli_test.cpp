#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"

namespace mailmoat::testing {

TEST(Cli, HelpListsEverySubcommand) {
  auto r = run({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* sub : {"serve", "config", "version"}) EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
}

TEST(Cli, UnknownSubcommandPrintsUsageAndExits2) {
  auto r = run({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("Usage"), std::string::npos);
}

TEST(Cli, UnknownOptionExits2) { EXPECT_EQ(run({"serve", "--no-such-option"}).exit_code, 2); }

TEST(Cli, VersionPrintsTheVersion) {
  auto r = run({"version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("mailmoat ", 0), 0u);
}

TEST(Cli, ConfigCheckAcceptsTheExampleFile) {
  auto r = run({"config", "check", std::string(MAILMOAT_SOURCE_DIR) + "/etc/mailmoat.toml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(Cli, ConfigCheckNamesTheLineOfAnUnknownKey) {
  TempDir d;
  d.write("bad.toml", "[server]\n\nthreadz = 2\n");
  auto r = run({"config", "check", d.file("bad.toml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad.toml") + ":3: unknown key \"server.threadz\""), std::string::npos) << r.err;
}

TEST(Cli, ConfigCheckNamesTheLineOfABadPort) {
  TempDir d;
  d.write("bad.toml", "[http]\nlisten = \"127.0.0.1:70000\"\n");
  auto r = run({"config", "check", d.file("bad.toml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad.toml") + ":2: http.listen: port"), std::string::npos) << r.err;
}

TEST(Cli, ConfigShowPrintsTheEffectiveConfigurationWithOverrides) {
  auto r = run({"config", "show", "--set", "server.threads=7"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("threads = 7"), std::string::npos);
  EXPECT_NE(r.out.find("[[smtp.listener]]"), std::string::npos);
}

}  // namespace mailmoat::testing

namespace mailmoat::testing {

namespace {
const char* kZone =
    "$ORIGIN example.com.\n@ 300 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n_dmarc 300 IN TXT \"v=DMARC1; p=reject\"\n";
}

TEST(CliCheck, PrintsAuthenticationResultsOffline) {
  TempDir d;
  d.write("z.zone", kZone);
  d.write("m.eml", "From: a@example.com\nSubject: x\n\nbody\n");  // LF line ends are accepted
  auto r = run({"check", "--zone", d.file("z.zone"), "--ip", "192.0.2.1", "--mail-from", "a@example.com",
                d.file("m.eml")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Authentication-Results: ", 0), 0u);
  EXPECT_NE(r.out.find("spf=pass"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dmarc=pass"), std::string::npos) << r.out;
}

TEST(CliCheck, JsonGivesEveryResultWithReasonsAndTheAction) {
  TempDir d;
  d.write("z.zone", kZone);
  d.write("m.eml", "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n");
  auto r = run({"check", "--zone", d.file("z.zone"), "--ip", "198.51.100.7", "--mail-from", "a@example.com", "--json",
                "-"},
               "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["action"], "reject");
  EXPECT_EQ(j["smtp_reply"].get<std::string>().substr(0, 9), "550 5.7.1");
  bool spf_fail = false, dmarc_fail = false;
  for (const auto& m : j["results"]) {
    spf_fail |= m["method"] == "spf" && m["result"] == "fail";
    dmarc_fail |= m["method"] == "dmarc" && m["result"] == "fail";
  }
  EXPECT_TRUE(spf_fail && dmarc_fail) << r.out;
}

TEST(CliCheck, UsageErrorsExit2AndMissingFilesExit1) {
  EXPECT_EQ(run({"check", "--bogus"}).exit_code, 2);
  EXPECT_EQ(run({"check", "--zone", "/nonexistent.zone", "/dev/null"}).exit_code, 1);
}

}  // namespace mailmoat::testing
