// The rules loader rejects every kind of bad rule with its line, and accepts
// the example file shipped in etc/.
#include <gtest/gtest.h>

#include <set>

#include "policy/loader.h"

namespace mailmoat::policy {
namespace {

std::string first_error(const std::string& text) {
  auto r = load_rules(text, "r.toml");
  EXPECT_FALSE(r.rules);
  return r.errors.empty() ? "" : r.errors[0].to_string();
}

TEST(RulesLoader, LoadsAMinimalRuleSortedByPriority) {
  auto r = load_rules(R"([[rule]]
name = "b"
priority = 20
actions = [{ quarantine = true }]

[[rule]]
name = "a"
priority = 10
[[rule.conditions]]
subject = { words = ["invoice"] }
[[rule.actions]]
reject = { status = "5.7.901", text = "No invoices" }
)", "r.toml");
  ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].to_string());
  ASSERT_EQ(r.rules->rules.size(), 2u);
  EXPECT_EQ(r.rules->rules[0].name, "a");
  EXPECT_EQ(r.rules->rules[0].actions[0].enhanced, "5.7.901");
  EXPECT_EQ(r.rules->rules[0].actions[0].text, "No invoices");
}

TEST(RulesLoader, InvalidRegexNamesTheLine) {
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                        "conditions = [\n  { subject = { regex = [\"(unclosed\"] } },\n]\n"),
            "r.toml:6: invalid regex '(unclosed': missing ): (unclosed");
}

TEST(RulesLoader, BadDateIsRejectedWithTheLine) {
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactive_from = \"next week\"\n"
                        "actions = [{ quarantine = true }]\n"),
            "r.toml:4: active_from: a TOML date or date-time is required (e.g. 2026-12-01 or "
            "2026-12-01T08:00:00Z, unquoted)");
  std::string e = first_error("[[rule]]\nname = \"x\"\npriority = 1\nactive_from = 2026-13-01\n");
  EXPECT_TRUE(e.starts_with("r.toml:4:")) << e;
}

TEST(RulesLoader, UnknownConditionAndActionAreRejected) {
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                        "conditions = [{ moon_phase = \"full\" }]\n"),
            "r.toml:5: unknown condition 'moon_phase'");
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ launch = true }]\n"),
            "r.toml:4: unknown action 'launch'");
}

TEST(RulesLoader, AttachmentConditionsMarkTheRuleForTheSecondPass) {
  auto r = load_rules("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                      "conditions = [{ attachment_extension = [\".EXE\", \"scr\"] }]\n"
                      "[[rule]]\nname = \"y\"\npriority = 2\nactions = [{ quarantine = true }]\n"
                      "conditions = [{ connector = \"partner\" }, { domain_secured = true }]\n",
                      "r.toml");
  ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_TRUE(r.rules->rules[0].needs_attachments);
  EXPECT_EQ(r.rules->rules[0].conditions[0].strings.is, (std::vector<std::string>{"exe", "scr"}));
  EXPECT_FALSE(r.rules->rules[1].needs_attachments);
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                        "conditions = [{ attachment_verdict = \"dodgy\" }]\n"),
            "r.toml:5: attachment_verdict: 'dodgy' is not one of clean, suspicious, malicious, scan error, pending");
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                        "conditions = [{ attachment_executable = false }]\n"),
            "r.toml:5: attachment_executable = true");
}

TEST(RulesLoader, DeliveryActionsAreValidated) {
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ hold = { minutes = 0 } }]\n"),
            "r.toml:4: hold: { minutes = N } with N from 1 to 43200 (30 days)");
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ require_tls = \"may\" }]\n"),
            "r.toml:4: require_tls: true or \"verify\"");
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ route = \"a b\" }]\n"),
            "r.toml:4: route: the name of a [[route]] in mailmoat.toml (letters, digits, '-', '_', '.')");
  auto r = load_rules("[[rule]]\nname = \"x\"\npriority = 1\n"
                      "actions = [{ route = \"hub\" }, { require_tls = true }, { hold = { minutes = 30 } }]\n",
                      "r.toml");
  ASSERT_TRUE(r.rules);
  EXPECT_TRUE(check_route_names(*r.rules, {"hub"}).empty());
  auto errors = check_route_names(*r.rules, {"other"});
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(), "r.toml:4: route: no [[route]] named 'hub' in the configuration");
}

TEST(RulesLoader, DuplicatePriorityAndNameAreRejected) {
  auto r = load_rules("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                      "[[rule]]\nname = \"X\"\npriority = 1\nactions = [{ quarantine = true }]\n",
                      "r.toml");
  ASSERT_FALSE(r.rules);
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].to_string(), "r.toml:5: duplicate priority 1 (also rule 'x' at line 1)");
  EXPECT_EQ(r.errors[1].to_string(), "r.toml:5: duplicate rule name 'X' (also at line 1)");
}

TEST(RulesLoader, RejectStatusOutsideTheCustomRangeIsRefused) {
  EXPECT_EQ(first_error("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ reject = { status = \"5.1.1\" } }]\n"),
            "r.toml:4: reject: status must be 5.7.1 or 5.7.900 to 5.7.999");
}

TEST(RulesLoader, HeaderInjectionThroughSetHeaderIsRefused) {
  std::string e = first_error("[[rule]]\nname = \"x\"\npriority = 1\n"
                              "actions = [{ set_header = { name = \"X-A\", value = \"a\\r\\nBcc: evil@x\" } }]\n");
  EXPECT_EQ(e, "r.toml:4: set_header: {name = \"X-Name\", value = \"one line\"}");
}

TEST(RulesLoader, TomlSyntaxErrorsCarryTheLine) {
  std::string e = first_error("[[rule]]\nname = \"x\"\npriority = = 1\n");
  EXPECT_TRUE(e.starts_with("r.toml:3:")) << e;
}

TEST(RulesLoader, MissingFileIsAnError) {
  auto r = load_rules_file("/nonexistent/rules.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "cannot read the rules file");
}

TEST(RulesLoader, ExampleFileLoads) {
  auto r = load_rules_file(std::string(MAILMOAT_SOURCE_DIR) + "/etc/rules.example.toml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(r.rules);
  // Every condition and action kind appears in the example.
  std::set<std::string> conditions, actions;
  for (const auto& rule : r.rules->rules) {
    for (const auto& c : rule.conditions) conditions.insert(to_string(c.kind));
    for (const auto& c : rule.exceptions) conditions.insert(to_string(c.kind));
    for (const auto& a : rule.actions) actions.insert(to_string(a.kind));
  }
  EXPECT_EQ(conditions.size(), 33u);
  EXPECT_EQ(actions.size(), 16u);
}

}  // namespace
}  // namespace mailmoat::policy
