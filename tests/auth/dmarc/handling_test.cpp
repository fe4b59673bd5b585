#include "auth/dmarc/handling.h"

#include <gtest/gtest.h>

namespace mailmoat::auth::dmarc {
namespace {

DmarcResult failed(const char* record) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", record);
  Input in;
  in.from_domain = "example.com";
  in.spf = {"example.net", AuthOutcome::pass};
  return evaluate(z, in);
}

TEST(DmarcHandling, HonoursRejectWith550AndTheReason) {
  auto h = decide(failed("v=DMARC1; p=reject"));
  EXPECT_EQ(h.action, Action::reject);
  EXPECT_EQ(h.action_word, "reject");
  EXPECT_EQ(h.smtp_reply,
            "550 5.7.1 Rejected by the DMARC policy of example.com: neither SPF nor DKIM passed aligned with example.com");
}

TEST(DmarcHandling, RejectCanBeQuarantinedOrJunkedInstead) {
  HandlingPolicy p;
  p.on_reject = Action::quarantine;
  auto q = decide(failed("v=DMARC1; p=reject"), p);
  EXPECT_EQ(q.action, Action::quarantine);
  EXPECT_EQ(q.action_word, "oreject");
  EXPECT_TRUE(q.smtp_reply.empty());
  p.on_reject = Action::deliver_as_spam;
  auto s = decide(failed("v=DMARC1; p=reject"), p);
  EXPECT_EQ(s.action, Action::deliver_as_spam);
  EXPECT_EQ(s.spam_confidence_level, 5);
}

TEST(DmarcHandling, QuarantinePolicyNeverBecomesAReject) {
  HandlingPolicy p;
  p.on_quarantine = Action::reject;
  EXPECT_EQ(decide(failed("v=DMARC1; p=quarantine"), p).action, Action::quarantine);
  p.on_quarantine = Action::deliver_as_spam;
  auto s = decide(failed("v=DMARC1; p=quarantine"), p);
  EXPECT_EQ(s.action, Action::deliver_as_spam);
  EXPECT_EQ(s.action_word, "oquarantine");
}

TEST(DmarcHandling, NoneTestingAndPassDeliver) {
  EXPECT_EQ(decide(failed("v=DMARC1; p=none")).action, Action::deliver);
  auto testing = decide(failed("v=DMARC1; p=quarantine; t=y"));
  EXPECT_EQ(testing.action, Action::deliver) << "t=y lowers quarantine to none";
  DmarcResult pass;
  pass.verdict = Verdict::pass;
  EXPECT_EQ(decide(pass).action_word, "none");
}

TEST(DmarcHandling, TemperrorTempfailsOnlyWhenConfigured) {
  DmarcResult r;
  r.verdict = Verdict::temperror;
  r.from_domain = "example.com";
  EXPECT_EQ(decide(r).action, Action::deliver);
  HandlingPolicy p;
  p.tempfail_on_temperror = true;
  auto h = decide(r, p);
  EXPECT_EQ(h.action, Action::tempfail);
  EXPECT_EQ(h.smtp_reply.substr(0, 9), "451 4.7.5");
}

}  // namespace
}  // namespace mailmoat::auth::dmarc
