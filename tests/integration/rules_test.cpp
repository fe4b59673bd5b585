// Transport rules, SCL verdicts and the rules CLI through the real gateway:
// SmtpClient in, Maildir out. Each condition kind and each action is driven
// by a message over SMTP; what users check (the reply, the delivered bytes,
// who received it, the queue, the trace) is what is asserted.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {

namespace {

// One rule per behaviour, keyed by a distinct token so that messages do not
// trigger each other's rules.
constexpr const char* kRules = R"(
[[rule]]
name = "custom reject"
priority = 10
conditions = [{ subject = { words = ["TOKEN-R1"] } }]
actions = [{ reject = { status = "5.7.901", text = "No R1 here" } }]

[[rule]]
name = "blocked sender"
priority = 11
conditions = [{ sender_domain = { is = ["blocked.example"], source = "envelope" } }]
actions = [{ reject = true }]

[[rule]]
name = "hold for review"
priority = 12
conditions = [{ subject = { regex = ['TOKEN-Q[0-9]'] } }]
actions = [{ quarantine = true }]

[[rule]]
name = "departed"
priority = 13
conditions = [{ recipient_address = "former@localhost" }]
actions = [{ redirect = "manager@localhost" }]

[[rule]]
name = "copies"
priority = 14
conditions = [{ subject = { words = ["TOKEN-COPY"] } }]
actions = [{ add_bcc = "audit@localhost" }, { add_cc = "legal@localhost" }, { add_to = "boss@localhost" }]

[[rule]]
name = "bulk drop"
priority = 15
conditions = [{ header = { name = "X-Mailer", words = ["BulkBlaster"] } }]
actions = [{ delete = true }]

[[rule]]
name = "tag"
priority = 16
conditions = [{ subject = { words = ["TOKEN-TAG"] } }, { sender_ip = "127.0.0.0/8" }, { direction = "inbound" },
              { sender_scope = "external" }, { tls = false }]
exceptions = [{ recipient_domain = { is = ["nowhere.example"], scope = "any" } }]
actions = [{ set_header = { name = "X-Policy", value = "tagged" } }, { remove_header = "X-Internal-Route" },
           { prepend_subject = "[EXT] " }]

[[rule]]
name = "spammy"
priority = 17
conditions = [{ body = { words = ["lottery"] } }]
actions = [{ set_scl = 6 }]

[[rule]]
name = "very spammy"
priority = 18
conditions = [{ subject_or_body = { words = ["casino"] } }]
actions = [{ set_scl = 8 }]

[[rule]]
name = "audit only"
priority = 19
mode = "audit"
conditions = [{ subject = { words = ["TOKEN-AUDIT"] } }]
actions = [{ reject = true }]

[[rule]]
name = "big"
priority = 20
conditions = [{ size_at_least = 20000 }, { subject = ["TOKEN-SIZE"] }]
actions = [{ set_header = { name = "X-Big", value = "yes" } }]

[[rule]]
name = "calendar"
priority = 21
conditions = [{ message_type = "calendar" }, { sender_address = { glob = ["*@cal.example"] } }]
actions = [{ set_header = { name = "X-Calendar", value = "yes" } }]

[[rule]]
name = "spf failed"
priority = 22
conditions = [{ spf = "fail" }, { header = { name = "Authentication-Results", regex = ['spf=fail'] } },
              { dmarc = "fail" }, { dmarc_policy = "reject" }, { compauth = "fail" }, { dkim = "none" },
              { arc = "none" }, { scl_at_least = 6 }, { scl_at_most = 6 }]
actions = [{ set_header = { name = "X-Spf-Failed", value = "yes" } }]
)";

// SPF and DMARC for the DMARC-as-spam test, answered by the zone-file resolver.
constexpr const char* kZone = R"(
$ORIGIN strict.example.net.
$TTL 300
@       IN TXT "v=spf1 -all"
_dmarc  IN TXT "v=DMARC1; p=reject"
$ORIGIN friend.example.
@       IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
$ORIGIN bl.test.
1.0.0.127 IN A 127.0.0.4
)";

std::string header_of(const std::string& mail) { return mail.substr(0, mail.find("\n\n")); }

struct RulesGateway {
  TempDir dir;
  Gateway gw;
  bool start(const std::string& rules, std::vector<std::string> extra = {}) {
    dir.write("rules.toml", rules);
    std::ofstream(gw.zone_file()) << kZone;
    extra.push_back("rules.file=" + dir.file("rules.toml"));
    extra.push_back("smtp.accepted_domains=[\"localhost\"]");
    extra.push_back("auth.authserv_id=mx.mailmoat.test");
    return gw.start(extra);
  }
  std::string send(const std::string& from, const std::vector<std::string>& to, const std::string& content) {
    SmtpClient c;
    if (!c.connect(gw.smtp_address())) return "connect failed";
    return c.send_message(from, to, content);
  }
  std::vector<std::string> box(const std::string& who) { return mailbox(gw.data_dir(), who); }
  CommandResult cli(std::vector<std::string> args) {
    for (std::string a : std::vector<std::string>{"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                                                  "http.listen=" + gw.http_address()})
      args.push_back(a);
    return run(args);
  }
  // The trace of the message the gateway answered with `reply` ("... queued as ID").
  std::string trace_of(const std::string& reply) {
    std::string id = reply.substr(reply.rfind(' ') + 1);
    while (!id.empty() && (id.back() == '\r' || id.back() == '\n')) id.pop_back();
    std::string out;
    for (int i = 0; i < 100; ++i) {
      out = cli({"trace", "show", id}).out;
      if (out.find("rules") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return out;
  }
};

}  // namespace

TEST(Rules, RejectWithCustomAndDefaultStatus) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  std::string r = g.send("a@sender.example", {"u@localhost"}, "Subject: about TOKEN-R1\r\n\r\nx\r\n");
  EXPECT_EQ(r, "550 5.7.901 No R1 here\r\n");
  r = g.send("x@blocked.example", {"u@localhost"}, "Subject: hi\r\n\r\nx\r\n");
  EXPECT_EQ(r, "550 5.7.1 Delivery not authorized, message refused\r\n");
  EXPECT_TRUE(g.box("u@localhost").empty());
}

TEST(Rules, QuarantineActionPutsTheMessageInTheQuarantine) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  std::string r = g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-Q7 review\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string q;
  for (int i = 0; i < 50 && q.find("rule") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    q = g.cli({"quarantine", "list"}).out;
  }
  EXPECT_NE(q.find("rule"), std::string::npos) << q;
  EXPECT_NE(q.find("TOKEN-Q7 review"), std::string::npos) << q;
  EXPECT_TRUE(g.box("u@localhost").empty());
  std::string t = g.trace_of(r);
  EXPECT_NE(t.find("'hold for review' (priority 12) because subject contains regex /TOKEN-Q[0-9]/"), std::string::npos)
      << t;
}

TEST(Rules, RedirectAndAddedRecipients) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"former@localhost"}, "Subject: hello\r\n\r\nx\r\n")), 250);
  EXPECT_EQ(wait_for_mail(g.gw.data_dir(), "manager@localhost", 1).size(), 1u) << g.gw.log();
  EXPECT_TRUE(g.box("former@localhost").empty());

  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"},
                              "To: u@localhost\r\nSubject: TOKEN-COPY\r\n\r\nx\r\n")),
            250);
  for (const char* who : {"u@localhost", "audit@localhost", "legal@localhost", "boss@localhost"})
    ASSERT_EQ(wait_for_mail(g.gw.data_dir(), who, 1).size(), 1u) << who;
  std::string h = header_of(g.box("u@localhost")[0]);
  EXPECT_NE(h.find("Cc: legal@localhost"), std::string::npos) << h;
  EXPECT_NE(h.find("To: u@localhost, boss@localhost"), std::string::npos) << h;
  EXPECT_EQ(h.find("audit@localhost"), std::string::npos) << "Bcc must stay invisible: " << h;
}

TEST(Rules, DeleteAnswers250DeliversNothingAndIsTraced) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  std::string r = g.send("a@sender.example", {"u@localhost"}, "X-Mailer: BulkBlaster 3\r\nSubject: offer\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(g.box("u@localhost").empty());
  EXPECT_NE(g.gw.log().find("deleted by rule 'bulk drop'"), std::string::npos) << g.gw.log();
  std::string t = g.trace_of(r);
  EXPECT_NE(t.find("'bulk drop' (priority 15) because header X-Mailer contains word"), std::string::npos) << t;
  EXPECT_NE(t.find("deleted by rule 'bulk drop'"), std::string::npos) << t;
}

TEST(Rules, HeaderAndSubjectActionsWithConditionsOnConnection) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"},
                              "X-Internal-Route: secret\r\nSubject: TOKEN-TAG news\r\n\r\nx\r\n")),
            250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  std::string h = header_of(mail[0]);
  EXPECT_NE(h.find("X-Policy: tagged"), std::string::npos) << h;
  EXPECT_EQ(h.find("X-Internal-Route"), std::string::npos) << h;
  EXPECT_NE(h.find("Subject: [EXT] TOKEN-TAG news"), std::string::npos) << h;
}

TEST(Rules, SclThresholdsMarkQuarantineAndStampAfterRemovingForgedStamps) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules, {"verdict.mark_subject_prefix=\"[SPAM] \""})) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"},
                              "X-Mailmoat-SCL: -1\r\nX-Mailmoat-Verdict: deliver\r\nSubject: win\r\n\r\n"
                              "You won the lottery\r\n")),
            250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  std::string h = header_of(mail[0]);
  EXPECT_NE(h.find("X-Mailmoat-SCL: 6\n"), std::string::npos) << h;
  EXPECT_NE(h.find("X-Mailmoat-Verdict: deliver-marked; scl=6; reasons=rule:spammy"), std::string::npos) << h;
  EXPECT_EQ(h.find("X-Mailmoat-SCL: -1"), std::string::npos) << h;
  EXPECT_EQ(h.find("X-Mailmoat-Verdict: deliver\n"), std::string::npos) << h;
  EXPECT_NE(h.find("Subject: [SPAM] win"), std::string::npos) << h;

  // SCL 8 >= quarantine_at (7): quarantined as spam.
  std::string r = g.send("a@sender.example", {"v@localhost"}, "Subject: casino night\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string q;
  for (int i = 0; i < 50 && q.find("casino night") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    q = g.cli({"quarantine", "list"}).out;
  }
  EXPECT_NE(q.find("spam"), std::string::npos) << q;
  EXPECT_TRUE(g.box("v@localhost").empty());

  // A clean message is stamped SCL 0, deliver.
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"w@localhost"}, "Subject: hi\r\n\r\nx\r\n")), 250);
  auto clean = wait_for_mail(g.gw.data_dir(), "w@localhost", 1);
  ASSERT_EQ(clean.size(), 1u);
  EXPECT_NE(clean[0].find("X-Mailmoat-SCL: 0\nX-Mailmoat-Verdict: deliver; scl=0\n"), std::string::npos) << clean[0];
}

TEST(Rules, SclRejectThresholdAndConfigurableHeaderNames) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules, {"verdict.reject_at=8", "verdict.scl_header=X-Spam-Level-Ex",
                               "verdict.verdict_header=X-Spam-Verdict-Ex"}))
      << g.gw.log();
  EXPECT_EQ(g.send("a@sender.example", {"u@localhost"}, "Subject: casino\r\n\r\nx\r\n"),
            "550 5.7.1 Message refused as spam\r\n");
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: x\r\n\r\nlottery\r\n")), 250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("X-Spam-Level-Ex: 6\nX-Spam-Verdict-Ex: deliver-marked"), std::string::npos) << mail[0];
}

TEST(Rules, AuditModeRecordsWhatWouldHaveHappenedAndDelivers) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  std::string r = g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-AUDIT\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  ASSERT_EQ(wait_for_mail(g.gw.data_dir(), "u@localhost", 1).size(), 1u);
  std::string t = g.trace_of(r);
  EXPECT_NE(t.find("rule_audit"), std::string::npos) << t;
  EXPECT_NE(t.find("would have: reject 550 5.7.1"), std::string::npos) << t;
}

TEST(Rules, SizeAndMessageTypeConditions) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  std::string big = "Subject: TOKEN-SIZE\r\n\r\n";
  for (int i = 0; i < 400; ++i) big += std::string(60, 'x') + "\r\n";
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, big)), 250);
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-SIZE small\r\n\r\nx\r\n")), 250);
  ASSERT_EQ(reply_code(g.send("m@cal.example", {"c@localhost"},
                              "Subject: meeting\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
                              "Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n--b--\r\n")),
            250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 2);
  ASSERT_EQ(mail.size(), 2u);
  int bigs = 0;
  for (const auto& m : mail) bigs += header_of(m).find("X-Big: yes") != std::string::npos;
  EXPECT_EQ(bigs, 1);
  auto cal = wait_for_mail(g.gw.data_dir(), "c@localhost", 1);
  ASSERT_EQ(cal.size(), 1u);
  EXPECT_NE(header_of(cal[0]).find("X-Calendar: yes"), std::string::npos) << cal[0];
}

// DMARC p=reject with dmarc_on_reject = deliver_as_spam: the DMARC handling sets
// SCL 6, rules see the structured auth results, the verdict stamps the reason.
TEST(Rules, DmarcFailureFeedsSclAndAuthConditions) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules, {"auth.dmarc_on_reject=deliver_as_spam"})) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("ceo@strict.example.net", {"u@localhost"},
                              "From: ceo@strict.example.net\r\nSubject: wire\r\n\r\nnow\r\n")),
            250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << g.gw.log();
  std::string h = header_of(mail[0]);
  EXPECT_NE(h.find("X-Mailmoat-Verdict: deliver-marked; scl=6; reasons=dmarc-fail,rule:spf-failed"), std::string::npos)
      << h;
  EXPECT_NE(h.find("X-Spf-Failed: yes"), std::string::npos) << h;
  EXPECT_EQ(h.find("X-Mailmoat-SCL: 6\nX-Mailmoat-SCL"), std::string::npos) << "one SCL header only: " << h;
}

TEST(Rules, ReloadOnSighupAndOnChangeKeepsPreviousRulesWhenBroken) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules)) << g.gw.log();
  // A broken file: logged, the previous rules stay.
  g.dir.write("rules.toml", "[[rule]]\nname = \"bad\"\npriority = 1\nactions = [{ reject = true }]\n"
                            "conditions = [{ subject = { regex = ['(oops'] } }]\n");
  kill(g.gw.pid(), SIGHUP);
  for (int i = 0; i < 100 && g.gw.log().find("rules.reload_failed") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_NE(g.gw.log().find(g.dir.file("rules.toml") + ":5: invalid regex"), std::string::npos) << g.gw.log();
  EXPECT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-R1\r\n\r\nx\r\n")), 550);
  // A good file is picked up by the change watcher without a signal.
  g.dir.write("rules.toml", "[[rule]]\nname = \"new\"\npriority = 1\nactions = [{ reject = { text = \"new rules\" } }]\n"
                            "conditions = [{ subject = [\"TOKEN-NEW\"] }]\n");
  for (int i = 0; i < 100 && g.gw.log().find("rules.reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(g.gw.log().find("rules.reloaded"), std::string::npos) << g.gw.log();
  EXPECT_EQ(g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-NEW\r\n\r\nx\r\n"),
            "550 5.7.1 new rules\r\n");
  EXPECT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: TOKEN-R1\r\n\r\nx\r\n")), 250);
}

TEST(Rules, BrokenRulesFileAtStartIsAClearErrorAndExit1) {
  TempDir d;
  d.write("rules.toml", "[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ launch = true }]\n");
  auto r = run({"serve", "--set", "http.listen=127.0.0.1:0", "--set", "server.data_dir=" + d.file("var"), "--set",
                "smtp.listener.0.address=127.0.0.1:0", "--set", "rules.file=" + d.file("rules.toml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("rules.toml") + ":4: unknown action 'launch'"), std::string::npos) << r.err;
}

TEST(Rules, ExampleRulesFileRunsInTheGateway) {
  RulesGateway g;
  std::ifstream in(std::string(MAILMOAT_SOURCE_DIR) + "/etc/rules.example.toml");
  std::string example((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The example routes payroll mail through a route named "payroll".
  ASSERT_TRUE(g.start(example, {"route.0.domains=[\"localhost\"]", "route.0.transport=maildir",
                                "route.1.domains=[\"*\"]", "route.1.transport=smtp", "route.2.name=payroll", "route.2.domains=[]", "route.2.transport=relay",
                                "route.2.next_hop=[127.0.0.1]:1"}))
      << g.gw.log();
  EXPECT_NE(g.gw.log().find("rules.loaded"), std::string::npos) << g.gw.log();
  EXPECT_EQ(g.send("x@spam.example", {"u@localhost"}, "Subject: hi\r\n\r\nx\r\n"),
            "550 5.7.901 Sender blocked by policy\r\n");
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: hello\r\n\r\nx\r\n")), 250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(header_of(mail[0]).find("Subject: [EXTERNAL] hello"), std::string::npos) << mail[0];
}

TEST(ConnectionFiltering, IpBlockListRefusesAtConnect) {
  RulesGateway g;
  ASSERT_TRUE(g.start("", {"connection.ip_block=[\"127.0.0.0/8\"]"})) << g.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(g.gw.smtp_address()));
  std::string greeting = c.reply();
  EXPECT_EQ(greeting.substr(0, 10), "554 5.7.1 ") << greeting;
  EXPECT_NE(greeting.find("Access denied: client address on the block list"), std::string::npos) << greeting;
  EXPECT_TRUE(c.closed());
}

TEST(ConnectionFiltering, IpAllowListBypassesSpamFiltering) {
  RulesGateway g;
  ASSERT_TRUE(g.start(kRules, {"connection.ip_allow=[\"127.0.0.0/8\"]"})) << g.gw.log();
  // SCL -1 from the allow list reaches the verdict: delivered, with the reason.
  ASSERT_EQ(reply_code(g.send("a@sender.example", {"u@localhost"}, "Subject: hello\r\n\r\nx\r\n")), 250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(header_of(mail[0]).find("X-Mailmoat-Verdict: deliver; scl=-1; reasons=ip-allow"), std::string::npos)
      << mail[0];
}

TEST(ConnectionFiltering, SenderBlockAndAuthenticatedSenderAllow) {
  RulesGateway g;
  ASSERT_TRUE(g.start("", {"connection.sender_block=[\"spam.example\"]",
                           "connection.sender_allow=[\"friend.example\", \"x@strict.example.net\"]",
                           "auth.dmarc_on_reject=deliver_as_spam"}))
      << g.gw.log();
  EXPECT_EQ(g.send("x@mail.spam.example", {"u@localhost"}, "Subject: hi\r\n\r\nx\r\n"),
            "550 5.7.1 Sender address rejected: on the block list\r\n");
  {
    // Refused at MAIL FROM: no message facts are needed, so no content is taken.
    SmtpClient c;
    ASSERT_TRUE(c.connect(g.gw.smtp_address()));
    EXPECT_EQ(c.begin_transaction("Boss@Spam.Example"), "550 5.7.1 Sender address rejected: on the block list\r\n");
    EXPECT_EQ(reply_code(c.command("MAIL FROM:<ok@sender.example>")), 250);  // the session goes on
  }
  ASSERT_EQ(reply_code(g.send("a@friend.example", {"u@localhost"}, "From: a@friend.example\r\nSubject: hi\r\n\r\nx\r\n")),
            250);
  auto mail = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(header_of(mail[0]).find("X-Mailmoat-Verdict: deliver; scl=-1; reasons=sender-allow"), std::string::npos)
      << mail[0];
  // On the allow list but failing SPF and DMARC: not trusted.
  ASSERT_EQ(reply_code(g.send("x@strict.example.net", {"v@localhost"},
                              "From: x@strict.example.net\r\nSubject: hi\r\n\r\nx\r\n")),
            250);
  auto forged = wait_for_mail(g.gw.data_dir(), "v@localhost", 1);
  ASSERT_EQ(forged.size(), 1u);
  EXPECT_NE(header_of(forged[0]).find("X-Mailmoat-Verdict: deliver-marked; scl=6; reasons=dmarc-fail"),
            std::string::npos)
      << forged[0];
}

TEST(ConnectionFiltering, DnsblListingWithReturnCodeMeaning) {
  RulesGateway g;
  ASSERT_TRUE(g.start("", {"connection.dnsbl_zones=[\"bl.test\"]",
                           "connection.dnsbl_codes=[\"127.0.0.4=exploited host\"]", "connection.dnsbl_scl=7"}))
      << g.gw.log();
  std::string r = g.send("a@sender.example", {"u@localhost"}, "Subject: hi\r\n\r\nx\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(g.box("u@localhost").empty());  // SCL 7 >= quarantine_at
  std::string id = r.substr(r.rfind(' ') + 1, r.size() - r.rfind(' ') - 3);
  std::string t;
  for (int i = 0; i < 100 && t.find("dnsbl_listed") == std::string::npos; ++i) {
    t = g.cli({"trace", "show", id}).out;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(t.find("127.0.0.1 on bl.test: exploited host (127.0.0.4)"), std::string::npos) << t;
  EXPECT_NE(t.find("quarantine; scl=7; reasons=dnsbl:bl.test"), std::string::npos) << t;
}

TEST(RulesCli, CheckPrintsFileLineErrors) {
  TempDir d;
  d.write("bad.toml", "[[rule]]\nname = \"a\"\npriority = 1\nactions = [{ quarantine = true }]\n"
                      "[[rule]]\nname = \"b\"\npriority = 1\nactive_until = \"soon\"\nactions = [{ quarantine = true }]\n");
  auto r = run({"rules", "check", d.file("bad.toml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(d.file("bad.toml") + ":5: duplicate priority 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(d.file("bad.toml") + ":8: active_until:"), std::string::npos) << r.err;
  auto ok = run({"rules", "check", std::string(MAILMOAT_SOURCE_DIR) + "/etc/rules.example.toml"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find(": ok ("), std::string::npos);
}

TEST(RulesCli, TestExplainsTheDecision) {
  TempDir d;
  d.write("rules.toml", kRules);
  d.write("msg.eml", "From: a@sender.example\nTo: u@localhost\nSubject: TOKEN-TAG news\n\nhello lottery\n");
  auto r = run({"rules", "test", "--rules", d.file("rules.toml"), "--ip", "127.0.0.1", "--mail-from",
                "a@sender.example", "--rcpt", "u@localhost", d.file("msg.eml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rule 'tag' (priority 16) matched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("because subject contains word \"TOKEN-TAG\" (subject has word \"TOKEN-TAG\")"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("because sender_ip in 127.0.0.0/8 (client 127.0.0.1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("action: prepend subject \"[EXT] \""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("header: X-Mailmoat-SCL: 6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outcome: deliver"), std::string::npos) << r.out;

  auto j = run({"rules", "test", "--rules", d.file("rules.toml"), "--json", "--mail-from", "x@blocked.example",
                "--rcpt", "u@localhost", d.file("msg.eml")});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["outcome"], "reject");
  EXPECT_EQ(parsed["smtp_reply"], "550 5.7.1 Delivery not authorized, message refused");
  EXPECT_EQ(parsed["matched"][0]["rule"], "blocked sender");
}

// `rules test` runs the attachment rules on the facts triage finds (no sandbox
// analysis in the CLI), and says what it could not know.
TEST(RulesCli, TestUsesTriageFactsForAttachmentRules) {
  TempDir d;
  d.write("rules.toml", "[[rule]]\nname = \"no exe\"\npriority = 1\n"
                        "conditions = [{ attachment_extension = \"exe\" }, { attachment_size_at_least = 5 }]\n"
                        "actions = [{ reject = true }]\n");
  d.write("msg.eml",
          "From: a@sender.example\r\nTo: u@localhost\r\nSubject: tools\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
          "--b\r\nContent-Type: application/octet-stream; name=\"setup.exe\"\r\n"
          "Content-Disposition: attachment; filename=\"setup.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          "aGVsbG8gd29ybGQ=\r\n--b--\r\n");
  auto r = run({"rules", "test", "--rules", d.file("rules.toml"), "--rcpt", "u@localhost", d.file("msg.eml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("attachments: 1 attachment(s): triage facts only"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rule 'no exe' (priority 1) matched"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("attachment setup.exe size 11"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outcome: reject"), std::string::npos) << r.out;
}

TEST(RulesCli, TestWithAuthResultsFromCheck) {
  TempDir d;
  d.write("zone.db", kZone);
  d.write("rules.toml", "[[rule]]\nname = \"spf failed\"\npriority = 1\n"
                        "conditions = [{ spf = \"fail\" }, { dmarc_policy = \"reject\" }]\n"
                        "actions = [{ set_header = { name = \"X-Spf\", value = \"fail\" } }]\n");
  d.write("msg.eml", "From: ceo@strict.example.net\nSubject: wire\n\nnow\n");
  auto r = run({"rules", "test", "--rules", d.file("rules.toml"), "--auth-results-from-check", "--zone",
                d.file("zone.db"), "--ip", "127.0.0.1", "--mail-from", "ceo@strict.example.net", "--rcpt",
                "u@localhost", d.file("msg.eml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("because spf is fail (spf=fail)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("because dmarc_policy is reject (DMARC policy=reject)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("note: auth verdict: reject by DMARC handling"), std::string::npos) << r.out;
  // Without the checks, authentication conditions have nothing to match.
  auto plain = run({"rules", "test", "--rules", d.file("rules.toml"), "--ip", "127.0.0.1", d.file("msg.eml")});
  EXPECT_NE(plain.out.find("no rule matched"), std::string::npos) << plain.out;
}

}  // namespace mailmoat::testing
