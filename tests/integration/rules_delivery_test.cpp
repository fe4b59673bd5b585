// Transport rules that steer delivery, and conditions on other filters' facts,
// through the real gateway: SmtpClient in; Maildir, smtp-sink (as a named next
// hop or a relay without TLS) out. What an administrator checks is asserted:
// where the message arrived, the queue state, the reply, the trace.
#include <gtest/gtest.h>

#include <thread>

#include "harness.h"
#include "samples.h"
#include "tls_certs.h"

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

struct RulesGw {
  TempDir dir;
  Gateway gw;
  std::vector<std::string> options;
  bool start(const std::string& rules, std::vector<std::string> extra) {
    dir.write("rules.toml", rules);
    extra.push_back("rules.file=" + dir.file("rules.toml"));
    extra.push_back("smtp.accepted_domains=[\"localhost\"]");
    options = extra;
    return gw.start(options);
  }
  bool restart() {
    gw.stop();
    return gw.start(options);
  }
  std::string send(const std::string& to, const std::string& content, const std::string& from = "a@sender.example") {
    SmtpClient c;
    if (!c.connect(gw.smtp_address())) return "connect failed";
    return c.send_message(from, {to}, content);
  }
  CommandResult cli(std::vector<std::string> args) {
    for (std::string a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                          "http.listen=" + gw.http_address()})
      args.push_back(a);
    return run(args);
  }
  // `mailmoat trace show ID` once it contains `text` (the recorder writes in batches).
  std::string trace_showing(const std::string& id, const std::string& text) {
    std::string out;
    for (int i = 0; i < 100; ++i) {
      auto r = cli({"trace", "show", id});
      out = r.out + r.err;
      if (out.find(text) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return out;
  }
  nlohmann::json queue_entry(const std::string& id) {
    auto r = cli({"queue", "show", id, "--json"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
};

constexpr const char* kDeliveryRules = R"(
[[rule]]
name = "to the hub"
priority = 1
conditions = [{ subject = ["TOKEN-ROUTE"] }]
actions = [{ route = "hub" }]

[[rule]]
name = "tls for finance"
priority = 2
conditions = [{ recipient_domain = "remote.test" }, { subject = ["TOKEN-TLS"] }]
actions = [{ require_tls = true }]

[[rule]]
name = "cool off"
priority = 3
conditions = [{ subject = ["TOKEN-HOLD"] }]
actions = [{ hold = { minutes = 1 } }]
)";

// localhost to Maildir, remote.test relayed to `relay` in clear, and a route "hub" that only rules use.
// A message from a@sender.example to u@localhost with one attachment.
std::string with(const std::string& name, const std::string& content) {
  return s::message("see attached", {{name, "application/octet-stream", content}}, "a@sender.example", "u@localhost");
}

std::vector<std::string> delivery_options(const SmtpSink& hub, const SmtpSink& relay) {
  return {"smtp.listener.0.role=relay",
          "route.0.domains=[\"localhost\"]",
          "route.0.transport=maildir",
          "route.1.domains=[\"remote.test\"]",
          "route.1.transport=relay",
          "route.1.next_hop=[127.0.0.1]:" + std::to_string(relay.port()),
          "route.2.name=hub",
          "route.2.domains=[]",
          "route.2.transport=relay",
          "route.2.next_hop=[127.0.0.1]:" + std::to_string(hub.port()),
          "queue.retry_base_seconds=600",
          "queue.retry_max_seconds=600"};
}

}  // namespace

TEST(RulesDelivery, RouteSendsEveryRecipientThroughTheNamedRoute) {
  SmtpSink hub, relay;
  RulesGw g;
  ASSERT_TRUE(g.start(kDeliveryRules, delivery_options(hub, relay))) << g.gw.log();
  std::string r = g.send("u@localhost", "Subject: TOKEN-ROUTE to the hub\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  auto got = hub.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << g.gw.log();
  EXPECT_NE(got[0].find("TOKEN-ROUTE to the hub"), std::string::npos) << got[0];
  EXPECT_NE(got[0].find("u@localhost"), std::string::npos) << got[0];
  EXPECT_TRUE(mailbox(g.gw.data_dir(), "u@localhost").empty());
  // Without the rule, the same recipient goes to its domain's route (Maildir).
  ASSERT_EQ(reply_code(g.send("u@localhost", "Subject: plain\r\n\r\nx\r\n")), 250);
  EXPECT_EQ(wait_for_mail(g.gw.data_dir(), "u@localhost", 1).size(), 1u);
  EXPECT_EQ(hub.messages().size(), 1u);
  std::string t = g.trace_showing(queue_id(r), "delivered");
  EXPECT_NE(t.find("route through 'hub'"), std::string::npos) << t;
}

TEST(RulesDelivery, RouteNamingNoConfiguredRouteIsALoadError) {
  SmtpSink hub, relay;
  RulesGw g;
  auto options = delivery_options(hub, relay);
  options[6] = "route.2.name=elsewhere";
  EXPECT_FALSE(g.start(kDeliveryRules, options));
  EXPECT_NE(g.gw.log().find(g.dir.file("rules.toml") + ":6: route: no [[route]] named 'hub' in the configuration"),
            std::string::npos)
      << g.gw.log();
}

TEST(RulesDelivery, RequireTlsDefersAtANextHopWithoutTlsAndNeverSendsInClear) {
  SmtpSink hub, relay;  // smtp-sink offers no STARTTLS
  RulesGw g;
  ASSERT_TRUE(g.start(kDeliveryRules, delivery_options(hub, relay))) << g.gw.log();
  std::string r = g.send("cfo@remote.test", "Subject: TOKEN-TLS payroll\r\n\r\nsalaries\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string id = queue_id(r);
  std::string t = g.trace_showing(id, "deferred");
  EXPECT_NE(t.find("451 4.7.5 TLS policy verify"), std::string::npos) << t;
  EXPECT_NE(t.find("does not offer STARTTLS"), std::string::npos) << t;
  auto q = g.queue_entry(id);
  EXPECT_EQ(q.value("require_tls", false), true) << q.dump();
  // The same destination without the rule: delivered in clear, as configured.
  ASSERT_EQ(reply_code(g.send("cfo@remote.test", "Subject: lunch\r\n\r\nx\r\n")), 250);
  auto got = relay.wait_for(1);
  ASSERT_EQ(got.size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (const auto& m : relay.messages()) EXPECT_EQ(m.find("salaries"), std::string::npos) << m;
}

TEST(RulesDelivery, TimedHoldSurvivesARestartAndReleasesItself) {
  SmtpSink hub, relay;
  RulesGw g;
  ASSERT_TRUE(g.start(kDeliveryRules, delivery_options(hub, relay))) << g.gw.log();
  const auto sent = std::chrono::steady_clock::now();
  std::string r = g.send("u@localhost", "Subject: TOKEN-HOLD cool off\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string id = queue_id(r);
  auto q = g.queue_entry(id);
  EXPECT_EQ(q.value("state", ""), "held-until") << q.dump();
  EXPECT_GT(q.value("hold_until", std::int64_t{0}), 0) << q.dump();
  ASSERT_TRUE(g.restart()) << g.gw.log();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_TRUE(mailbox(g.gw.data_dir(), "u@localhost").empty()) << "delivered during the hold";
  EXPECT_EQ(g.queue_entry(id).value("state", ""), "held-until");
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1, std::chrono::seconds(75));
  ASSERT_EQ(mail.size(), 1u) << g.gw.log();
  EXPECT_GE(std::chrono::steady_clock::now() - sent, std::chrono::seconds(55));
  std::string t = g.trace_showing(id, "timed hold by transport rule ended");
  EXPECT_NE(t.find("held for 1 minutes by rule 'cool off'"), std::string::npos) << t;
  EXPECT_NE(t.find("timed hold by transport rule ended"), std::string::npos) << t;
}

TEST(RulesDelivery, AttachmentConditionsRunAfterSafeAttachments) {
  RulesGw g;
  ASSERT_TRUE(g.start(R"(
[[rule]]
name = "no executables"
priority = 1
conditions = [{ attachment_executable = true }, { attachment_type = { glob = ["application/*"] } }]
actions = [{ reject = { status = "5.7.950", text = "Executables are not accepted" } }]

[[rule]]
name = "tag big zips"
priority = 2
conditions = [{ attachment_extension = ".zip" }, { attachment_size_at_least = 100 },
              { attachment_name = { regex = ['^report'] } }]
actions = [{ set_header = { name = "X-Zip", value = "yes" } }]

[[rule]]
name = "macro"
priority = 3
conditions = [{ attachment_verdict = "malicious" }]
actions = [{ prepend_subject = "[MACRO] " }]

[[rule]]
name = "locked"
priority = 4
conditions = [{ attachment_password_protected = true }]
actions = [{ set_header = { name = "X-Locked", value = "yes" } }]

[[rule]]
name = "incomplete"
priority = 5
conditions = [{ attachment_scan_incomplete = true }]
actions = [{ set_header = { name = "X-Scan", value = "incomplete" } }]
)",
                      {"attachments.policy.0.action=monitor", "attachments.workers=1",
                       "attachments.policy.0.budget_ms=4000"}))
      << g.gw.log();
  EXPECT_EQ(g.send("u@localhost", with("tool.exe", s::pe_executable())), "550 5.7.950 Executables are not accepted\r\n");
  std::string big;
  for (int i = 0; i < 200; ++i) big += "line " + std::to_string(i) + " of the quarterly report\n";
  ASSERT_EQ(reply_code(g.send("u@localhost", with("report-q3.zip", s::archive({{"q3.txt", big}})))), 250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << g.gw.log();
  EXPECT_NE(mail[0].find("X-Zip: yes"), std::string::npos) << mail[0].substr(0, 2000);
  EXPECT_EQ(mail[0].find("X-Locked"), std::string::npos);

  std::string r = g.send("v@localhost", with("invoice.docm", s::docm_with_autoopen()));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto macro = wait_for_mail(g.gw.data_dir(), "v@localhost", 1);
  ASSERT_EQ(macro.size(), 1u) << g.gw.log();
  EXPECT_NE(macro[0].find("Subject: [MACRO] "), std::string::npos) << macro[0].substr(0, 2000);
  std::string t = g.trace_showing(queue_id(r), "rule_matched");
  EXPECT_NE(t.find("'macro' (priority 3) because attachment_verdict is malicious (attachment invoice.docm verdict "
                   "malicious)"),
            std::string::npos)
      << t;

  ASSERT_EQ(reply_code(g.send("w@localhost", s::message("the password is Inv2026",
                                                         {{"locked.zip", "application/zip",
                                                           s::archive({{"a.txt", "hello"}}, "zip", "Inv2026")}},
                                                         "a@sender.example", "w@localhost"))),
            250);
  auto locked = wait_for_mail(g.gw.data_dir(), "w@localhost", 1);
  ASSERT_EQ(locked.size(), 1u) << g.gw.log();
  EXPECT_NE(locked[0].find("X-Locked: yes"), std::string::npos) << locked[0].substr(0, 2000);
}

// attachment_contains reads the text Safe Attachments found in each file (in
// the sandbox): a Word document, a PDF and a zipped text file through SMTP.
TEST(RulesDelivery, AttachmentContentConditionReadsWordPdfAndArchivedText) {
  RulesGw g;
  ASSERT_TRUE(g.start(R"(
[[rule]]
name = "confidential"
priority = 1
conditions = [{ attachment_contains = { words = ["strictly confidential"], regex = ['project\s+nightjar'] } }]
actions = [{ reject = { status = "5.7.951", text = "Confidential attachments may not leave" } }]
)",
                      {"attachments.policy.0.action=monitor", "attachments.workers=1",
                       "attachments.policy.0.budget_ms=4000"}))
      << g.gw.log();
  const std::string refused = "550 5.7.951 Confidential attachments may not leave\r\n";
  std::string r = g.send("u@localhost", with("plan.docx", s::docx({"Roadmap", "Project   Nightjar launch"})));
  EXPECT_EQ(r, refused);
  EXPECT_EQ(g.send("u@localhost", with("memo.pdf", s::pdf_with_text("This memo is STRICTLY CONFIDENTIAL."))), refused);
  EXPECT_EQ(g.send("u@localhost", with("notes.zip", s::archive({{"notes.txt", "strictly confidential: do not share"}}))),
            refused);
  // The same words in the body or the file name are not attachment content.
  ASSERT_EQ(reply_code(g.send("u@localhost",
                              s::message("Project Nightjar is strictly confidential",
                                         {{"project-nightjar.docx", "application/octet-stream", s::docx({"Roadmap"})}},
                                         "a@sender.example", "u@localhost"))),
            250);
  ASSERT_EQ(wait_for_mail(g.gw.data_dir(), "u@localhost", 1).size(), 1u) << g.gw.log();
}

TEST(RulesDelivery, AStopInTheFirstPassSkipsAttachmentRules) {
  RulesGw g;
  ASSERT_TRUE(g.start(R"(
[[rule]]
name = "trusted"
priority = 1
conditions = [{ subject = ["TOKEN-TRUSTED"] }]
actions = [{ set_header = { name = "X-Trusted", value = "yes" } }]
stop = true

[[rule]]
name = "no executables"
priority = 2
conditions = [{ attachment_extension = "exe" }]
actions = [{ reject = true }]
)",
                      {"attachments.policy.0.action=off"}))
      << g.gw.log();
  auto msg = [](const std::string& subject) {
    return s::message("x", {{"tool.exe", "application/octet-stream", s::pe_executable()}}, "a@sender.example",
                      "u@localhost", subject);
  };
  EXPECT_EQ(reply_code(g.send("u@localhost", msg("hello"))), 550);
  ASSERT_EQ(reply_code(g.send("u@localhost", msg("TOKEN-TRUSTED"))), 250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("X-Trusted: yes"), std::string::npos);
}

TEST(RulesDelivery, NotifySendsATemplatedMessageButNeverForAutomaticMail) {
  SmtpSink hub, relay;
  RulesGw g;
  ASSERT_TRUE(g.start(R"(
[[rule]]
name = "tell"
priority = 1
conditions = [{ subject = ["TOKEN-NOTIFY"] }]
[[rule.actions]]
notify = { to = ["sender", "security@localhost"], subject = "Rule {rule} matched", text = "Your message {subject} to {recipients} matched {rule}.\nQueue id {queue_id}." }
)",
                      delivery_options(hub, relay)))
      << g.gw.log();
  std::string r = g.send("u@localhost", "Subject: TOKEN-NOTIFY hi\r\n\r\nx\r\n", "boss@localhost");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string id = queue_id(r);
  ASSERT_EQ(wait_for_mail(g.gw.data_dir(), "u@localhost", 1).size(), 1u);
  for (const char* who : {"boss@localhost", "security@localhost"}) {
    auto n = wait_for_mail(g.gw.data_dir(), who, 1);
    ASSERT_EQ(n.size(), 1u) << who << g.gw.log();
    EXPECT_NE(n[0].find("Return-Path: <>\n"), std::string::npos) << n[0];
    EXPECT_NE(n[0].find("Subject: Rule tell matched\n"), std::string::npos) << n[0];
    EXPECT_NE(n[0].find("Auto-Submitted: auto-generated\n"), std::string::npos) << n[0];
    EXPECT_NE(n[0].find("Your message TOKEN-NOTIFY hi to u@localhost matched tell.\nQueue id " + id + "."),
              std::string::npos)
        << n[0];
  }
  EXPECT_NE(g.trace_showing(id, "notify_sent").find("notification"), std::string::npos);

  // An auto-reply and a bounce (null sender) match the rule but are never answered.
  std::string auto_reply = g.send("u@localhost", "Auto-Submitted: auto-replied\r\nSubject: TOKEN-NOTIFY away\r\n\r\nx\r\n",
                                  "boss@localhost");
  ASSERT_EQ(reply_code(auto_reply), 250);
  std::string bounce = g.send("u@localhost", "Subject: TOKEN-NOTIFY failed\r\n\r\nx\r\n", "");
  ASSERT_EQ(reply_code(bounce), 250) << bounce;
  ASSERT_EQ(wait_for_mail(g.gw.data_dir(), "u@localhost", 3).size(), 3u);
  std::string t = g.trace_showing(queue_id(auto_reply), "notify_skipped");
  EXPECT_NE(t.find("not sent: the message is automatic (auto_reply)"), std::string::npos) << t;
  t = g.trace_showing(queue_id(bounce), "notify_skipped");
  EXPECT_NE(t.find("not sent: the message is automatic (bounce)"), std::string::npos) << t;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(mailbox(g.gw.data_dir(), "security@localhost").size(), 1u);
  EXPECT_EQ(mailbox(g.gw.data_dir(), "boss@localhost").size(), 1u);
}

// The partner's Postfix relays to the gateway with its client certificate: the
// partner connector marks the message domain-secured, and rules see both facts.
TEST(RulesDelivery, ConnectorAndDomainSecuredConditionsFromARealPartnerMta) {
  TempDir d;
  ASSERT_TRUE(make_tls_certs(d));
  RulesGw g;
  ASSERT_TRUE(g.start(R"(
[[rule]]
name = "secured partner"
priority = 1
conditions = [{ connector = "partner" }, { domain_secured = true }]
actions = [{ set_header = { name = "X-Partner-Rule", value = "secured" } }]

[[rule]]
name = "not from a connector"
priority = 2
exceptions = [{ connector = { glob = ["*"] } }]
actions = [{ set_header = { name = "X-Partner-Rule", value = "none" } }]
)",
                      {"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key"),
                       "tls.partner.0.name=partner", "tls.partner.0.sender_domains=[\"partner.test\"]",
                       "tls.partner.0.accepted_names=[\"mta.partner.test\"]",
                       "tls.partner.0.ca_file=" + d.file("ca.pem")}))
      << g.gw.log();
  std::string smtp = g.gw.smtp_address();
  Postfix pf(free_port(), {"relayhost = [127.0.0.1]:" + smtp.substr(smtp.rfind(':') + 1),
                           "smtp_tls_security_level = encrypt", "smtp_tls_cert_file = " + d.file("good.pem"),
                           "smtp_tls_key_file = " + d.file("good.key")});
  ASSERT_TRUE(pf.started()) << pf.maillog();
  for (const char* from : {"a@partner.test", "b@elsewhere.test"}) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(pf.address()));
    ASSERT_EQ(reply_code(c.send_message(from, {"u@localhost"}, std::string("From: ") + from +
                                                                    "\r\nSubject: hi\r\n\r\nbody\r\n")),
              250);
  }
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 2, std::chrono::seconds(30));
  ASSERT_EQ(mail.size(), 2u) << pf.maillog() << g.gw.log();
  int secured = 0, none = 0;
  for (const auto& m : mail) {
    bool partner = m.find("From: a@partner.test") != std::string::npos;
    if (m.find("X-Partner-Rule: secured") != std::string::npos) secured += partner ? 1 : 100;
    if (m.find("X-Partner-Rule: none") != std::string::npos) none += partner ? 100 : 1;
  }
  EXPECT_EQ(secured, 1);
  EXPECT_EQ(none, 1);
}

TEST(RulesDelivery, RulesTestCliShowsDeliveryRequestsAndNotifications) {
  TempDir d;
  d.write("rules.toml", R"(
[[rule]]
name = "payroll"
priority = 1
conditions = [{ subject = ["salaries"] }]
[[rule.actions]]
route = "hub"
[[rule.actions]]
require_tls = true
[[rule.actions]]
hold = { minutes = 5 }
[[rule.actions]]
notify = { to = "sender", subject = "Held: {subject}", text = "Held by {rule}." }
)");
  d.write("msg.eml", "From: a@sender.example\nSubject: salaries\n\nx\n");
  auto r = run({"rules", "test", "--rules", d.file("rules.toml"), "--mail-from", "a@sender.example", "--rcpt",
                "u@localhost", d.file("msg.eml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("action: route through 'hub'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("action: notify sender (\"Held: {subject}\")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delivery: through route 'hub'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delivery: verified TLS required"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("delivery: held for 5 minutes by rule 'payroll'"), std::string::npos) << r.out;
}

}  // namespace mailmoat::testing
