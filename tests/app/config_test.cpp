#include "app/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mailmoat::app {

TEST(Config, ExampleFileAgreesWithBuiltInDefaults) {
  LoadResult example = load_config(std::string(MAILMOAT_SOURCE_DIR) + "/etc/mailmoat.toml");
  ASSERT_TRUE(example.ok()) << example.errors.front().to_string();
  EXPECT_EQ(render_config(example.config), render_config(Config{}));
}

// The example as a user would enable it: lines starting with "#: " (tables
// with no default elements, such as [[dkim.key]]) uncommented.
std::string example_with_samples() {
  std::ifstream in(std::string(MAILMOAT_SOURCE_DIR) + "/etc/mailmoat.toml");
  std::string line, out;
  while (std::getline(in, line)) out += (line.rfind("#: ", 0) == 0 ? line.substr(3) : line) + "\n";
  return out;
}

TEST(Config, ExampleFileListsEveryKey) {
  LoadResult example = load_config_text(example_with_samples(), "mailmoat.toml");
  ASSERT_TRUE(example.ok()) << example.errors.front().to_string();
  for (const auto& key : all_config_keys())
    EXPECT_NE(std::find(example.keys_seen.begin(), example.keys_seen.end(), key), example.keys_seen.end())
        << "etc/mailmoat.toml does not document " << key;
}

TEST(Config, UnknownKeyIsReportedWithItsLine) {
  auto r = load_config_text("[server]\nthreads = 2\nthreadz = 3\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "f.toml:3: unknown key \"server.threadz\"");
}

TEST(Config, UnknownSectionIsReported) {
  auto r = load_config_text("\n[smpt]\nx = 1\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].message.find("unknown section [smpt]"), std::string::npos);
}

TEST(Config, BadPortIsReportedWithItsLine) {
  auto r = load_config_text("[http]\nlisten = \"127.0.0.1:99999\"\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].message.find("port"), std::string::npos);
}

TEST(Config, WrongTypeAndOutOfRangeAreReported) {
  auto r = load_config_text("[server]\nthreads = \"two\"\nshutdown_grace_seconds = -1\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].message.find("expected an integer, got a string"), std::string::npos);
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_NE(r.errors[1].message.find("out of range"), std::string::npos);
}

TEST(Config, BadAddressesInListsAndEnumsAreReported) {
  auto r = load_config_text(
      "[smtp]\nrelay_networks = [\"10.0.0.0/33\"]\naccepted_domains = [\"bad domain\"]\n"
      "[[smtp.listener]]\naddress = \"example.com:25\"\nrole = \"mx\"\n",
      "f.toml");
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[1].line, 3);
  EXPECT_EQ(r.errors[2].line, 5);
  EXPECT_EQ(r.errors[3].line, 6);
}

TEST(Config, SyntaxErrorNamesTheLine) {
  auto r = load_config_text("[server]\nthreads = \n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
}

TEST(Config, ListenerTablesReplaceTheDefault) {
  auto r = load_config_text(
      "[[smtp.listener]]\nname = \"mx\"\naddress = \"127.0.0.1:25\"\n"
      "[[smtp.listener]]\nname = \"out\"\naddress = \"127.0.0.1:587\"\nrole = \"submission\"\n",
      "f.toml");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.config.smtp.listeners.size(), 2u);
  EXPECT_EQ(r.config.smtp.listeners[1].role, "submission");
  EXPECT_EQ(r.config.smtp.listeners[0].role, "inbound");
}

TEST(Config, OverridesSetScalarsListsAndListenerFields) {
  auto r = load_config("", {"server.threads=4", "http.listen=127.0.0.1:0", "smtp.listener.0.address=127.0.0.1:0",
                            "smtp.accepted_domains=[\"a.test\", \"b.test\"]", "log.level=debug"});
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  EXPECT_EQ(r.config.server.threads, 4);
  EXPECT_EQ(r.config.http.listen, "127.0.0.1:0");
  EXPECT_EQ(r.config.smtp.listeners[0].address, "127.0.0.1:0");
  EXPECT_EQ(r.config.smtp.accepted_domains.size(), 2u);
  EXPECT_EQ(r.config.log.level, "debug");
}

TEST(Config, BadOverridesAreErrors) {
  auto r = load_config("", {"server.threadz=4", "server.threads=zero", "novalue"});
  EXPECT_EQ(r.errors.size(), 3u);
}

TEST(Config, TlsCertWithoutKeyIsAnError) {
  auto r = load_config_text("[[smtp.listener]]\ntls_cert = \"/etc/cert.pem\"\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].message.find("tls_key"), std::string::npos);
}

TEST(Config, DkimKeyTablesAndArcAreLoaded) {
  auto r = load_config_text(
      "[[dkim.key]]\ndomain = \"example.com\"\nselector = \"s1\"\nkey_file = \"/k/rsa.pem\"\n"
      "[[dkim.key]]\ndomain = \"example.com\"\nselector = \"s2\"\nkey_file = \"/k/next.pem\"\nnext = true\n"
      "[arc]\ndomain = \"gw.example\"\nselector = \"arc1\"\nkey_file = \"/k/arc.pem\"\n",
      "f.toml");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  ASSERT_EQ(r.config.dkim.keys.size(), 2u);
  EXPECT_FALSE(r.config.dkim.keys[0].next);
  EXPECT_TRUE(r.config.dkim.keys[1].next);
  EXPECT_EQ(r.config.dkim.keys[1].selector, "s2");
  EXPECT_EQ(r.config.arc.key_file, "/k/arc.pem");
  EXPECT_EQ(r.config.dkim.canonicalization, "relaxed/relaxed");
}

TEST(Config, BadCanonicalizationIsReportedWithItsLine) {
  auto r = load_config_text("[dkim]\nsign = true\ncanonicalization = \"relaxed/loose\"\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_NE(r.errors[0].message.find("relaxed/loose"), std::string::npos);
}

TEST(Config, IncompleteDkimKeyOrArcIsAnError) {
  auto r = load_config_text("[[dkim.key]]\ndomain = \"example.com\"\n[arc]\nkey_file = \"/k/arc.pem\"\n", "f.toml");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_NE(r.errors[0].message.find("dkim.key[0]"), std::string::npos);
  EXPECT_NE(r.errors[1].message.find("arc"), std::string::npos);
}

TEST(Config, SecretsAreNotRendered) {
  Config c;
  c.store.url = "postgresql://u:hunter2@127.0.0.1/db";
  EXPECT_EQ(render_config(c).find("hunter2"), std::string::npos);
}

}  // namespace mailmoat::app

namespace mailmoat::app {

TEST(Config, MilterListenersTakeHostPortOrUnixPathAndABudgetPolicy) {
  auto ok = load_config_text("[[milter.listener]]\naddress = \"unix:/run/mailmoat/milter.sock\"\n"
                             "on_budget_exceeded = \"quarantine\"\n[[milter.listener]]\nname = \"b\"\n",
                             "f.toml");
  ASSERT_TRUE(ok.ok()) << ok.errors.front().to_string();
  ASSERT_EQ(ok.config.milter.listeners.size(), 2u);
  EXPECT_EQ(ok.config.milter.listeners[0].on_budget_exceeded, "quarantine");
  EXPECT_EQ(ok.config.milter.listeners[1].address, "127.0.0.1:8891");
  EXPECT_TRUE(Config{}.milter.listeners.empty());  // milter mode is off unless configured
  auto bad = load_config_text("[[milter.listener]]\naddress = \"unix:relative\"\non_budget_exceeded = \"drop\"\n",
                              "f.toml");
  ASSERT_EQ(bad.errors.size(), 2u);
  EXPECT_EQ(bad.errors[0].line, 2);
  EXPECT_NE(bad.errors[0].message.find("unix:/absolute/path"), std::string::npos);
  EXPECT_NE(bad.errors[1].message.find("tempfail accept quarantine"), std::string::npos);
}

}  // namespace mailmoat::app
