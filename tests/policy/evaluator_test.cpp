// Every condition kind, exceptions, priority order, stop, audit mode,
// active-from/until with an injected clock, and evaluation failures.
#include <gtest/gtest.h>

#include "policy/evaluator.h"
#include "policy/loader.h"

namespace mailmoat::policy {
namespace {

RuleSet rules(const std::string& text) {
  auto r = load_rules(text, "t.toml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  return r.rules ? std::move(*r.rules) : RuleSet{};
}

// One rule "r" with the given condition entry and a quarantine action.
RuleSet one(const std::string& condition, const std::string& exception = "") {
  return rules("[[rule]]\nname = \"r\"\npriority = 1\nactions = [{ quarantine = true }]\nconditions = [{ " +
               condition + " }]\n" + (exception.empty() ? "" : "exceptions = [{ " + exception + " }]\n"));
}

MessageFacts facts() {
  MessageFacts f;
  f.envelope_sender = "alice@sender.example";
  f.header_from = "boss@sender.example";
  f.envelope_recipients = {"bob@corp.example", "carol@other.example"};
  f.direction = "inbound";
  f.client_ip = "192.0.2.10";
  f.headers = {{"From", "Boss <boss@sender.example>"}, {"X-Mailer", "BulkBlaster 9"},
               {"Authentication-Results", "mx.corp.example; spf=fail smtp.mailfrom=sender.example"}};
  f.subject = "Overdue invoice #42";
  f.body = "Please pay the overdue invoice today.";
  f.size = 5000;
  f.auth = {"fail", "none", "fail", "none", "fail", "reject"};
  f.message_types = {"calendar"};
  return f;
}

bool matches(const RuleSet& rs, const MessageFacts& f = facts()) { return !evaluate(rs, f, 0).matched.empty(); }

TEST(RulesEvaluator, SenderAddressAndDomainBySource) {
  EXPECT_TRUE(matches(one("sender_address = \"ALICE@sender.example\"")));
  EXPECT_TRUE(matches(one("sender_domain = { glob = [\"*.example\"] }")));
  EXPECT_TRUE(matches(one("sender_address = { regex = [\"^boss@\"], source = \"header\" }")));
  EXPECT_FALSE(matches(one("sender_address = { regex = [\"^boss@\"], source = \"envelope\" }")));
  EXPECT_FALSE(matches(one("sender_domain = \"other.example\"")));
}

TEST(RulesEvaluator, SenderScopeAndDirection) {
  EXPECT_TRUE(matches(one("sender_scope = \"external\"")));
  EXPECT_FALSE(matches(one("sender_scope = \"internal\"")));
  EXPECT_TRUE(matches(one("direction = [\"inbound\", \"internal\"]")));
  EXPECT_FALSE(matches(one("direction = \"outbound\"")));
}

TEST(RulesEvaluator, RecipientAnyOrAll) {
  EXPECT_TRUE(matches(one("recipient_domain = \"corp.example\"")));
  EXPECT_FALSE(matches(one("recipient_domain = { is = [\"corp.example\"], scope = \"all\" }")));
  EXPECT_TRUE(matches(one("recipient_domain = { glob = [\"*.example\"], scope = \"all\" }")));
  EXPECT_TRUE(matches(one("recipient_address = { regex = [\"^carol@\"] }")));
}

TEST(RulesEvaluator, SenderIp) {
  EXPECT_TRUE(matches(one("sender_ip = [\"198.51.100.0/24\", \"192.0.2.0/24\"]")));
  EXPECT_FALSE(matches(one("sender_ip = \"10.0.0.0/8\"")));
}

TEST(RulesEvaluator, HeaderWordsAndRegexIncludingAuthenticationResults) {
  EXPECT_TRUE(matches(one("header = { name = \"X-Mailer\", words = [\"bulkblaster\"] }")));
  EXPECT_FALSE(matches(one("header = { name = \"X-Mailer\", words = [\"bulk\"] }")));  // whole words only
  EXPECT_TRUE(matches(one("header = { name = \"Authentication-Results\", regex = [\"spf=fail\"] }")));
  EXPECT_TRUE(matches(one("header = { regex = [\"^x-mailer: bulk\"] }")));  // any header, case-insensitive
}

TEST(RulesEvaluator, SubjectBodyAndEither) {
  EXPECT_TRUE(matches(one("subject = { words = [\"invoice\"] }")));
  EXPECT_FALSE(matches(one("subject = { words = [\"today\"] }")));
  EXPECT_TRUE(matches(one("body = { words = [\"today\"] }")));
  EXPECT_TRUE(matches(one("subject_or_body = { regex = [\"#[0-9]+\"] }")));
  EXPECT_TRUE(matches(one("subject = [\"$$$\", \"overdue\"]")));
}

TEST(RulesEvaluator, SizeAndScl) {
  EXPECT_TRUE(matches(one("size_at_least = 5000")));
  EXPECT_FALSE(matches(one("size_at_least = 5001")));
  auto f = facts();
  f.scl = 6;
  EXPECT_TRUE(matches(one("scl_at_least = 5"), f));
  EXPECT_FALSE(matches(one("scl_at_most = 5"), f));
  EXPECT_TRUE(matches(one("scl_at_most = 1")));  // nothing set: 0
}

TEST(RulesEvaluator, AuthenticationResults) {
  EXPECT_TRUE(matches(one("spf = [\"fail\", \"softfail\"]")));
  EXPECT_TRUE(matches(one("dkim = \"none\"")));
  EXPECT_TRUE(matches(one("dmarc = \"fail\"")));
  EXPECT_FALSE(matches(one("arc = \"pass\"")));
  EXPECT_TRUE(matches(one("compauth = \"fail\"")));
  EXPECT_TRUE(matches(one("dmarc_policy = \"reject\"")));
}

TEST(RulesEvaluator, TlsAndMessageType) {
  EXPECT_TRUE(matches(one("tls = false")));
  EXPECT_FALSE(matches(one("tls = true")));
  EXPECT_TRUE(matches(one("message_type = [\"calendar\", \"bounce\"]")));
  EXPECT_FALSE(matches(one("message_type = \"auto_reply\"")));
}

TEST(RulesEvaluator, ExceptionSkipsTheRule) {
  auto ev = evaluate(one("subject = { words = [\"invoice\"] }", "sender_domain = \"sender.example\""), facts(), 0);
  EXPECT_TRUE(ev.matched.empty());
  ASSERT_EQ(ev.notes.size(), 1u);
  EXPECT_NE(ev.notes[0].find("skipped by exception"), std::string::npos);
  EXPECT_EQ(ev.decision.outcome, Outcome::deliver);
}

TEST(RulesEvaluator, ExplainsWhatMatched) {
  auto ev = evaluate(one("subject = { words = [\"invoice\"] }"), facts(), 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_EQ(ev.matched[0].because[0], "subject contains word \"invoice\" (subject has word \"invoice\")");
  EXPECT_EQ(ev.matched[0].actions[0], "quarantine");
  EXPECT_EQ(ev.decision.outcome, Outcome::quarantine);
  EXPECT_EQ(ev.decision.decided_by, "r");
}

TEST(RulesEvaluator, PriorityOrderStopAndRejectEndProcessing) {
  auto rs = rules(R"(
[[rule]]
name = "tag"
priority = 5
actions = [{ prepend_subject = "[EXT] " }]
stop = true
[[rule]]
name = "never"
priority = 9
actions = [{ quarantine = true }]
)");
  auto ev = evaluate(rs, facts(), 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_TRUE(ev.matched[0].stopped);
  EXPECT_EQ(ev.decision.subject_prefix, "[EXT] ");
  EXPECT_EQ(ev.decision.outcome, Outcome::deliver);

  auto rs2 = rules(R"(
[[rule]]
name = "no"
priority = 1
actions = [{ reject = true }]
[[rule]]
name = "later"
priority = 2
actions = [{ set_scl = 9 }]
)");
  auto ev2 = evaluate(rs2, facts(), 0);
  ASSERT_EQ(ev2.matched.size(), 1u);
  EXPECT_EQ(ev2.decision.outcome, Outcome::reject);
  EXPECT_EQ(ev2.decision.enhanced, "5.7.1");
  EXPECT_EQ(ev2.decision.text, "Delivery not authorized, message refused");
  EXPECT_FALSE(ev2.decision.scl);
}

TEST(RulesEvaluator, AuditModeRecordsButChangesNothing) {
  auto rs = rules("[[rule]]\nname = \"a\"\npriority = 1\nmode = \"audit\"\nactions = [{ reject = true }]\n");
  auto ev = evaluate(rs, facts(), 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_TRUE(ev.matched[0].audit);
  EXPECT_EQ(ev.matched[0].actions[0], "reject 550 5.7.1 Delivery not authorized, message refused");
  EXPECT_EQ(ev.decision.outcome, Outcome::deliver);
}

TEST(RulesEvaluator, ActiveWindowUsesTheInjectedClock) {
  auto rs = rules("[[rule]]\nname = \"w\"\npriority = 1\nactive_from = 2026-12-01\n"
                  "active_until = 2026-12-02T00:00:00+01:00\nactions = [{ quarantine = true }]\n");
  const std::int64_t dec1 = 1796083200;  // 2026-12-01T00:00:00Z
  EXPECT_TRUE(evaluate(rs, facts(), dec1 - 1).matched.empty());
  EXPECT_FALSE(evaluate(rs, facts(), dec1).matched.empty());
  EXPECT_FALSE(evaluate(rs, facts(), dec1 + 86400 - 3601).matched.empty());
  EXPECT_TRUE(evaluate(rs, facts(), dec1 + 86400 - 3600).matched.empty());
}

TEST(RulesEvaluator, DisabledRuleDoesNotRun) {
  auto rs = rules("[[rule]]\nname = \"off\"\npriority = 1\nenabled = false\nactions = [{ quarantine = true }]\n");
  EXPECT_TRUE(evaluate(rs, facts(), 0).matched.empty());
}

TEST(RulesEvaluator, UndecodableBodyDoesNotMatchOrDefers) {
  auto f = facts();
  f.body_problem = "the MIME structure could not be parsed";
  auto ev = evaluate(one("body = { words = [\"today\"] }"), f, 0);
  EXPECT_TRUE(ev.matched.empty());
  ASSERT_EQ(ev.notes.size(), 1u);
  EXPECT_NE(ev.notes[0].find("body not evaluated"), std::string::npos);
  auto rs = rules("[[rule]]\nname = \"d\"\npriority = 1\non_error = \"defer\"\nactions = [{ quarantine = true }]\n"
                  "conditions = [{ body = [\"today\"] }]\n");
  auto ev2 = evaluate(rs, f, 0);
  EXPECT_EQ(ev2.decision.outcome, Outcome::tempfail);
  EXPECT_EQ(ev2.decision.enhanced, "4.7.0");
}

TEST(RulesEvaluator, ActionsMerge) {
  auto rs = rules(R"(
[[rule]]
name = "m"
priority = 1
actions = [{ redirect = ["review@corp.example"] }, { add_bcc = "audit@corp.example" },
           { add_to = "x@corp.example" }, { add_cc = "y@corp.example" },
           { set_header = { name = "X-Flag", value = "yes" } }, { remove_header = "X-Mailer" }, { set_scl = 7 }]
)");
  auto d = evaluate(rs, facts(), 0).decision;
  ASSERT_TRUE(d.redirect);
  EXPECT_EQ((*d.redirect)[0], "review@corp.example");
  EXPECT_EQ(d.add_bcc[0], "audit@corp.example");
  EXPECT_EQ(d.add_to[0], "x@corp.example");
  EXPECT_EQ(d.add_cc[0], "y@corp.example");
  ASSERT_EQ(d.headers.size(), 2u);
  EXPECT_TRUE(d.headers[1].remove);
  EXPECT_EQ(d.scl, 7);
}

TEST(RulesEvaluator, ConnectorAndDomainSecured) {
  MessageFacts f = facts();
  EXPECT_FALSE(matches(one("connector = \"partner\""), f));
  EXPECT_TRUE(matches(one("domain_secured = false"), f));
  f.connector = "Partner";
  f.domain_secured = true;
  EXPECT_TRUE(matches(one("connector = { glob = [\"part*\"] }"), f));
  EXPECT_TRUE(matches(one("domain_secured = true"), f));
  EXPECT_FALSE(matches(one("domain_secured = false"), f));
  auto ev = evaluate(one("domain_secured = true"), f, 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_EQ(ev.matched[0].because[0], "domain_secured is true (domain secured by connector Partner)");
}

TEST(RulesEvaluator, AttachmentFacts) {
  MessageFacts f = facts();
  EXPECT_FALSE(matches(one("attachment_extension = \"exe\""), f));
  f.attachments.push_back({"Invoice.EXE", "exe", "application/x-dosexec", 4096, true, false, false, "malicious"});
  f.attachments.push_back({"notes.zip", "zip", "application/zip", 300, false, true, true, "scan error"});
  EXPECT_TRUE(matches(one("attachment_extension = \".exe\""), f));
  EXPECT_TRUE(matches(one("attachment_name = { glob = [\"invoice.*\"] }"), f));
  EXPECT_TRUE(matches(one("attachment_name = { regex = ['^notes\\.'] }"), f));
  EXPECT_TRUE(matches(one("attachment_type = { glob = [\"application/x-dosexec\"] }"), f));
  EXPECT_TRUE(matches(one("attachment_size_at_least = 4096"), f));
  EXPECT_FALSE(matches(one("attachment_size_at_least = 4097"), f));
  EXPECT_TRUE(matches(one("attachment_executable = true"), f));
  EXPECT_TRUE(matches(one("attachment_password_protected = true"), f));
  EXPECT_TRUE(matches(one("attachment_scan_incomplete = true"), f));
  EXPECT_TRUE(matches(one("attachment_verdict = [\"suspicious\", \"malicious\"]"), f));
  EXPECT_FALSE(matches(one("attachment_verdict = \"clean\""), f));
  auto ev = evaluate(one("attachment_executable = true"), f, 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_EQ(ev.matched[0].because[0], "attachment_executable (attachment Invoice.EXE is executable (application/x-dosexec))");
}

TEST(RulesEvaluator, AttachmentContainsMatchesEachFilesTextAndNamesTheFile) {
  MessageFacts f = facts();
  f.attachments.push_back({"photo.jpg", "jpg", "image/jpeg", 9000, false, false, false, "clean", ""});
  f.attachments.push_back({"plan.docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           12000, false, false, false, "clean", "Budget\nProject  Nightjar\nStrictly Confidential"});
  EXPECT_TRUE(matches(one("attachment_contains = [\"strictly confidential\"]"), f));
  EXPECT_TRUE(matches(one("attachment_contains = { regex = ['project\\s+nightjar'] }"), f));
  EXPECT_FALSE(matches(one("attachment_contains = [\"confident\"]"), f)) << "whole words only";
  EXPECT_FALSE(matches(one("attachment_contains = [\"photo\"]"), f)) << "the name is not the content";
  // The subject and body do not count as attachment text, nor the other way round.
  f.subject = "Quarterly numbers";
  EXPECT_FALSE(matches(one("attachment_contains = [\"quarterly\"]"), f));
  EXPECT_FALSE(matches(one("body = [\"nightjar\"]"), f));
  auto ev = evaluate(one("attachment_contains = [\"budget\"]"), f, 0);
  ASSERT_EQ(ev.matched.size(), 1u);
  EXPECT_NE(ev.matched[0].because[0].find("attachment plan.docx has word \"budget\""), std::string::npos)
      << ev.matched[0].because[0];
  // It is an attachment condition: the rule waits for the second pass.
  EXPECT_TRUE(evaluate(one("attachment_contains = [\"budget\"]"), f, 0, Pass::content).matched.empty());
}

TEST(RulesEvaluator, PassesSplitRulesOnAttachmentConditions) {
  auto rs = rules("[[rule]]\nname = \"content\"\npriority = 1\nactions = [{ set_scl = 3 }]\n"
                  "[[rule]]\nname = \"files\"\npriority = 2\nactions = [{ set_scl = 4 }]\n"
                  "conditions = [{ attachment_extension = \"exe\" }]\n");
  MessageFacts f = facts();
  f.attachments.push_back({"a.exe", "exe", "application/x-dosexec", 10, true, false, false, "clean"});
  auto all = evaluate(rs, f, 0, Pass::all);
  EXPECT_EQ(all.matched.size(), 2u);
  auto content = evaluate(rs, f, 0, Pass::content);
  ASSERT_EQ(content.matched.size(), 1u);
  EXPECT_EQ(content.matched[0].rule, "content");
  auto files = evaluate(rs, f, 0, Pass::attachments);
  ASSERT_EQ(files.matched.size(), 1u);
  EXPECT_EQ(files.matched[0].rule, "files");
  EXPECT_EQ(files.decision.scl, 4);
}

TEST(RulesEvaluator, DeliveryActionsMerge) {
  auto rs = rules("[[rule]]\nname = \"a\"\npriority = 1\nactions = [{ hold = { minutes = 10 } }, { route = \"one\" }]\n"
                  "[[rule]]\nname = \"b\"\npriority = 2\n"
                  "actions = [{ hold = { minutes = 5 } }, { route = \"two\" }, { require_tls = \"verify\" }]\n"
                  "[[rule]]\nname = \"c\"\npriority = 3\nmode = \"audit\"\nactions = [{ hold = { minutes = 99 } }]\n");
  auto ev = evaluate(rs, facts(), 0);
  EXPECT_EQ(ev.decision.hold_minutes, 10);  // the longest hold, audit rules change nothing
  EXPECT_EQ(ev.decision.hold_by, "a");
  EXPECT_EQ(ev.decision.route, "two");      // the later rule's route
  EXPECT_TRUE(ev.decision.require_tls);
  EXPECT_EQ(ev.matched[1].actions, (std::vector<std::string>{"hold for 5 minutes", "route through 'two'",
                                                              "require verified TLS for delivery"}));
}

}  // namespace
}  // namespace mailmoat::policy
