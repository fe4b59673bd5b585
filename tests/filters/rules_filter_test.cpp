// The rules filter's own logic: the notify action (templates, recipients,
// the loop guards of RFC 3834, queued through a MessageSink), the two passes
// around Safe Attachments, and the delivery requests it puts on the context.
// Through the gateway: tests/integration/rules_delivery_test.cpp.
#include "filters/rules/rules_filter.h"

#include <gtest/gtest.h>

#include "pipeline/chain.h"
#include "policy/loader.h"

namespace mailmoat::filters {
namespace {

// Keeps what is submitted, as the queue would.
class Sink : public pipeline::MessageSink {
 public:
  std::string next_queue_id() override { return "N" + std::to_string(++n_); }
  void submit(pipeline::Submission s, Done done) override {
    got.push_back(s.context);
    done({});
  }
  std::vector<std::shared_ptr<pipeline::MessageContext>> got;

 private:
  int n_ = 0;
};

std::shared_ptr<const policy::RuleSet> rules(const std::string& text) {
  auto r = policy::load_rules(text, "t.toml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.to_string();
  return std::make_shared<const policy::RuleSet>(r.rules ? std::move(*r.rules) : policy::RuleSet{});
}

pipeline::MessageContext message(const std::string& sender, const std::string& headers) {
  pipeline::MessageContext ctx;
  ctx.queue_id = "Q1";
  ctx.connection.role = "inbound";
  ctx.connection.client_address = "192.0.2.7";
  ctx.envelope.sender = sender;
  ctx.envelope.recipients = {{"u@corp.example", "", ""}, {"v@corp.example", "", ""}};
  ctx.message = headers + "Subject: Quarterly numbers\r\nMessage-ID: <m1@x>\r\n\r\nbody\r\n";
  return ctx;
}

pipeline::Verdict run(RulesFilter& f, pipeline::MessageContext& ctx) {
  std::optional<pipeline::Verdict> v;
  f.on_message(ctx, [&](pipeline::Verdict x) { v = std::move(x); });
  EXPECT_TRUE(v);
  pipeline::Verdict verdict = v.value_or(pipeline::Verdict{});
  pipeline::run_final_actions(ctx, verdict);  // as the front end does once the fate is final
  return verdict;
}

const char* kNotify = R"(
[[rule]]
name = "tell"
priority = 1
[[rule.actions]]
notify = { to = ["sender", "recipients", "sec@corp.example"], subject = "[{rule}] {subject}", text = "From {sender} ({client_ip}) to {recipients}, id {queue_id}, {message_id}" }
)";

TEST(RulesNotify, BuildsTheMessageFromTheTemplateAndQueuesIt) {
  Sink sink;
  RulesFilter f({}, rules(kNotify), [] { return std::int64_t{1798761600}; });
  f.set_notify({&sink, "mx.corp.example"});
  auto ctx = message("Alice@Sender.Example", "From: alice@sender.example\r\n");
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  ASSERT_EQ(sink.got.size(), 1u);
  const auto& n = *sink.got[0];
  EXPECT_EQ(n.envelope.sender, "");  // the null reverse-path: nothing answers or bounces it
  ASSERT_EQ(n.envelope.recipients.size(), 4u);
  EXPECT_EQ(n.envelope.recipients[0].address, "alice@sender.example");
  EXPECT_EQ(n.envelope.recipients[3].address, "sec@corp.example");
  EXPECT_NE(n.message.find("Subject: [tell] Quarterly numbers\r\n"), std::string::npos) << n.message;
  EXPECT_NE(n.message.find("From: Mail Administrator <postmaster@mx.corp.example>\r\n"), std::string::npos);
  EXPECT_NE(n.message.find("Auto-Submitted: auto-generated\r\n"), std::string::npos);
  EXPECT_NE(n.message.find("Message-ID: <N1.notify@mx.corp.example>\r\n"), std::string::npos);
  EXPECT_NE(n.message.find("\r\n\r\nFrom alice@sender.example (192.0.2.7) to u@corp.example, v@corp.example, id Q1, "
                           "<m1@x>\r\n"),
            std::string::npos)
      << n.message;
  bool noted = false;
  for (const auto& note : ctx.notes)
    noted |= note.event == "notify_sent" && note.detail == "rule 'tell': notification N1 to alice@sender.example, "
                                                          "u@corp.example, v@corp.example, sec@corp.example";
  EXPECT_TRUE(noted);
}

TEST(RulesNotify, NeverForAutomaticMailOrTheNullSender) {
  Sink sink;
  RulesFilter f({}, rules(kNotify), [] { return std::int64_t{0}; });
  f.set_notify({&sink, "mx"});
  for (const char* headers : {"Auto-Submitted: auto-generated\r\n", "Auto-Submitted: auto-replied\r\n",
                              "Precedence: bulk\r\n", "X-Autoreply: yes\r\n"}) {
    auto ctx = message("a@sender.example", headers);
    run(f, ctx);
    ASSERT_FALSE(ctx.notes.empty());
    EXPECT_EQ(ctx.notes.back().event, "notify_skipped") << headers;
  }
  auto bounce = message("", "");
  run(f, bounce);
  EXPECT_EQ(bounce.notes.back().detail, "rule 'tell': not sent: the message is automatic (bounce)");
  EXPECT_TRUE(sink.got.empty());
  // "Auto-Submitted: no" is a person's mail.
  auto person = message("a@sender.example", "Auto-Submitted: no\r\n");
  run(f, person);
  EXPECT_EQ(sink.got.size(), 1u);
}

// A filter after the rules that answers with a fixed verdict (the SCL verdict or
// Safe Attachments refusing for a while, say).
class Fixed : public pipeline::Filter {
 public:
  explicit Fixed(pipeline::Disposition d) : d_(d) {}
  std::string name() const override { return "later"; }
  void on_message(pipeline::MessageContext&, Done done) override {
    pipeline::Verdict v;
    v.disposition = d_;
    done(std::move(v));
  }

 private:
  pipeline::Disposition d_;
};

TEST(RulesNotify, WaitsForTheFinalOutcomeAndIsNotSentWhenALaterFilterDefers) {
  for (auto later : {pipeline::Disposition::tempfail, pipeline::Disposition::reject, pipeline::Disposition::accept}) {
    Sink sink;
    auto f = std::make_shared<RulesFilter>(RulesConfig{}, rules(kNotify), [] { return std::int64_t{0}; });
    f->set_notify({&sink, "mx"});
    pipeline::FilterChain chain;
    chain.add(f);
    chain.add(std::make_shared<Fixed>(later));
    auto ctx = std::make_shared<pipeline::MessageContext>(message("a@sender.example", ""));
    std::optional<pipeline::Verdict> v;
    chain.run(ctx, [&](pipeline::Verdict x) { v = std::move(x); });
    ASSERT_TRUE(v);
    EXPECT_TRUE(sink.got.empty()) << "nothing is sent before the fate is final";
    pipeline::run_final_actions(*ctx, *v);
    // A temporary failure brings the message back: its notice waits for that attempt.
    EXPECT_EQ(sink.got.size(), later == pipeline::Disposition::tempfail ? 0u : 1u);
    EXPECT_TRUE(ctx->final_actions.empty());
  }
}

TEST(RulesNotify, TemplatesCannotInjectHeaders) {
  policy::Notice n{"r", {"x@y.example"}, "About {subject}", "t"};
  policy::MessageFacts facts;
  facts.subject = "hi\r\nBcc: victim@example.com";
  std::string subject = fill_template(n.subject, n, facts, "Q", 0);
  EXPECT_EQ(subject, "About hi  Bcc: victim@example.com");
}

TEST(RulesNotify, NonAsciiSubjectsAreEncodedWords) {
  EXPECT_EQ(encoded_header_text("plain"), "plain");
  EXPECT_EQ(encoded_header_text("Caf\xC3\xA9"), "=?UTF-8?B?Q2Fmw6k=?=");
  std::string long_text;
  for (int i = 0; i < 30; ++i) long_text += "\xC3\xA9";  // 60 octets: two words, no split sequence
  std::string e = encoded_header_text(long_text);
  EXPECT_EQ(e.find("\r\n =?UTF-8?B?"), 72u) << e;  // 44 octets in the first word
}

TEST(RulesFilterPasses, AttachmentRulesRunInTheSecondPassUnlessTheFirstStopped) {
  auto rs = rules(R"(
[[rule]]
name = "stopper"
priority = 1
conditions = [{ subject = ["STOP"] }]
actions = [{ set_header = { name = "X-Stop", value = "1" } }]
stop = true
[[rule]]
name = "exe"
priority = 2
conditions = [{ attachment_extension = "exe" }]
actions = [{ hold = { minutes = 5 } }, { route = "hub" }, { require_tls = true }]
)");
  auto clock = [] { return std::int64_t{1000}; };
  RulesFilter first({}, rs, clock), second({}, rs, clock, policy::Pass::attachments);
  auto ctx = message("a@sender.example", "");
  ctx.attachments.push_back({"a.exe", "exe", "", "application/x-dosexec", 10, "", true, false, false, "clean", {}});
  run(first, ctx);
  EXPECT_EQ(ctx.delivery.hold_until, 0);  // not in the first pass
  run(second, ctx);
  EXPECT_EQ(ctx.delivery.hold_until, 1000 + 5 * 60);
  EXPECT_EQ(ctx.delivery.route, "hub");
  EXPECT_TRUE(ctx.delivery.require_tls);
  EXPECT_EQ(ctx.delivery.hold_reason, "held for 5 minutes by rule 'exe'");

  auto stopped = message("a@sender.example", "");
  stopped.message = "Subject: STOP\r\n\r\nx\r\n";
  stopped.attachments = ctx.attachments;
  run(first, stopped);
  EXPECT_TRUE(stopped.rules_stopped);
  run(second, stopped);
  EXPECT_EQ(stopped.delivery.hold_until, 0);
}

TEST(RulesFilterPasses, DeliveryRequestsInMilterModeAreTracedAsNotApplied) {
  auto rs = rules("[[rule]]\nname = \"r\"\npriority = 1\nactions = [{ hold = { minutes = 5 } }]\n");
  RulesFilter f({}, rs, [] { return std::int64_t{0}; });
  auto ctx = message("a@sender.example", "");
  ctx.connection.role = "milter";
  run(f, ctx);
  ASSERT_FALSE(ctx.notes.empty());
  EXPECT_EQ(ctx.notes.back().detail,
            "route, require_tls and hold are not applied in milter mode: the MTA delivers the message");
}

}  // namespace
}  // namespace mailmoat::filters
