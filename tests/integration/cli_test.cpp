#include <gtest/gtest.h>

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
