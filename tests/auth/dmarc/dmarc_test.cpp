// DMARC record parsing, the RFC 9989 tree walk (cases written from its §4.10
// text and examples), alignment, policy selection (p/sp/np/t), overrides,
// RFC 7489 mode and compauth.
#include <gtest/gtest.h>

#include "auth/dmarc/discovery.h"
#include "auth/dmarc/dmarc.h"

namespace mailmoat::auth::dmarc {
namespace {

TEST(DmarcRecord, ParsesTagsAndIgnoresUnknownOnes) {
  auto r = parse_record("v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; aspf=r; psd=n; t=y; "
                        "rua=mailto:a@example.com, mailto:b@example.com; future=1; pct=50; ri=3600");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->p, Policy::reject);
  EXPECT_EQ(r->sp, Policy::quarantine);
  EXPECT_EQ(r->np, Policy::reject);
  EXPECT_EQ(r->adkim, Alignment::strict);
  EXPECT_EQ(r->psd, PsdFlag::no);
  EXPECT_TRUE(r->testing);
  EXPECT_EQ(r->rua.size(), 2u);
  EXPECT_EQ(r->pct, 50u);
}

TEST(DmarcRecord, MissingOrBadPolicyReadsAsNone) {
  auto r = parse_record("v=DMARC1; p=bogus");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->p, Policy::none);
  EXPECT_FALSE(r->p_valid);
  EXPECT_FALSE(parse_record("v=DMARC1; p"));
  EXPECT_FALSE(parse_record("p=reject; v=DMARC1"));
  EXPECT_FALSE(is_dmarc_record("v=DMARC10; p=reject"));
  EXPECT_FALSE(is_dmarc_record("v=spf1 -all"));
}

TEST(DmarcTreeWalk, TargetsFollowRfc9989Section4_10) {
  // A name of 8 or more labels is cut to its last 7 after the first query.
  auto t = walk_targets("a.b.c.d.e.f.g.h.i.j.mail.example.com");
  std::vector<std::string> want{"a.b.c.d.e.f.g.h.i.j.mail.example.com", "g.h.i.j.mail.example.com",
                                "h.i.j.mail.example.com", "i.j.mail.example.com", "j.mail.example.com",
                                "mail.example.com", "example.com", "com"};
  EXPECT_EQ(t, want);
  EXPECT_EQ(walk_targets("mail.example.com"),
            (std::vector<std::string>{"mail.example.com", "example.com", "com"}));
}

Input pass_spf(std::string from, std::string spf_domain) {
  Input in;
  in.from_domain = std::move(from);
  in.spf = {std::move(spf_domain), AuthOutcome::pass};
  return in;
}

TEST(DmarcTreeWalk, SubdomainInheritsOrganizationPolicyThroughSp) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; sp=quarantine");
  Input in;
  in.from_domain = "a.b.mail.example.com";
  in.spf = {"other.example.net", AuthOutcome::pass};
  auto r = evaluate(z, in);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.policy_domain, "example.com");
  EXPECT_EQ(r.org_domain, "example.com");
  EXPECT_EQ(r.requested, Policy::quarantine);
  EXPECT_EQ(r.applied, Policy::quarantine);
  EXPECT_LE(r.dns_queries, 5);
}

TEST(DmarcTreeWalk, WalkIsBoundedToEightQueries) {
  dns::ZoneResolver z;
  auto r = evaluate(z, pass_spf("a.b.c.d.e.f.g.h.i.j.k.l.m.n.example.com", "x.example.net"));
  EXPECT_EQ(r.verdict, Verdict::none);
  EXPECT_EQ(z.queries(), 8u);
}

TEST(DmarcTreeWalk, PsdRecordGivesOrganizationOneLabelBelow) {
  // A public suffix operator publishes psd=y at "bank"; the organization
  // of mail.example.bank is example.bank, so bounce.example.bank aligns.
  dns::ZoneResolver z;
  z.add_txt("_dmarc.bank", "v=DMARC1; p=reject; psd=y");
  auto r = evaluate(z, pass_spf("mail.example.bank", "bounce.example.bank"));
  EXPECT_EQ(r.policy_domain, "bank");
  EXPECT_EQ(r.org_domain, "example.bank");
  EXPECT_TRUE(r.spf_aligned);
  EXPECT_EQ(r.verdict, Verdict::pass);
  // ... but another registrant under the same suffix does not align.
  auto other = evaluate(z, pass_spf("mail.example.bank", "evil.bank"));
  EXPECT_EQ(other.verdict, Verdict::fail);
  EXPECT_EQ(other.applied, Policy::reject);
}

TEST(DmarcTreeWalk, PsdNoStopsTheOrganizationalWalk) {
  // dept.example.com declares itself an organization (psd=n): mail from it
  // does not align with example.com even though both publish records.
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=none");
  z.add_txt("_dmarc.dept.example.com", "v=DMARC1; p=reject; psd=n");
  auto r = evaluate(z, pass_spf("dept.example.com", "example.com"));
  EXPECT_EQ(r.org_domain, "dept.example.com");
  EXPECT_FALSE(r.spf_aligned);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.applied, Policy::reject);
}

TEST(DmarcTreeWalk, OrganizationIsTheRecordWithFewestLabels) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=quarantine");
  z.add_txt("_dmarc.mail.example.com", "v=DMARC1; p=reject");
  Input in;
  in.from_domain = "mail.example.com";
  in.dkim = {{"news.example.com", "s1", AuthOutcome::pass}};
  auto r = evaluate(z, in);
  EXPECT_EQ(r.policy_domain, "mail.example.com");
  EXPECT_EQ(r.org_domain, "example.com");
  EXPECT_TRUE(r.dkim_aligned) << "relaxed: news.example.com and mail.example.com share example.com";
  EXPECT_EQ(r.verdict, Verdict::pass);
  EXPECT_EQ(r.dkim_selector, "s1");
}

TEST(DmarcPolicy, NpAppliesToNonexistentSubdomains) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=none; sp=quarantine; np=reject");
  z.add_a("exists.example.com", "192.0.2.1");
  auto gone = evaluate(z, pass_spf("nosuch.example.com", "x.example.net"));
  EXPECT_EQ(gone.requested, Policy::reject);
  auto there = evaluate(z, pass_spf("exists.example.com", "x.example.net"));
  EXPECT_EQ(there.requested, Policy::quarantine);
}

TEST(DmarcPolicy, StrictAlignmentNeedsTheSameName) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; aspf=s; adkim=s");
  Input in = pass_spf("example.com", "bounce.example.com");
  in.dkim = {{"mail.example.com", "s", AuthOutcome::pass}, {"example.com", "s2", AuthOutcome::fail}};
  auto r = evaluate(z, in);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.applied, Policy::reject);
  EXPECT_EQ(r.compauth, CompVerdict::fail);
  EXPECT_EQ(r.compauth_reason, 0);
}

TEST(DmarcPolicy, TestingModeAppliesTheNextWeakerPolicy) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject; t=y");
  auto r = evaluate(z, pass_spf("example.com", "example.net"));
  EXPECT_EQ(r.requested, Policy::reject);
  EXPECT_EQ(r.applied, Policy::quarantine);
  EXPECT_EQ(r.override_reason, Override::testing);
}

TEST(DmarcPolicy, TrustedArcAndLocalOverridesRelaxTheDisposition) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
  Input in = pass_spf("example.com", "list.example.org");
  in.trusted_arc = true;
  auto r = evaluate(z, in);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.applied, Policy::none);
  EXPECT_EQ(r.override_reason, Override::trusted_forwarder);
  EXPECT_EQ(r.compauth, CompVerdict::pass);
  EXPECT_EQ(r.compauth_reason, 130);
  in.trusted_arc = false;
  auto local = evaluate(z, in);
  apply_override(local, Override::mailing_list);
  EXPECT_EQ(local.applied, Policy::none);
  EXPECT_EQ(local.override_reason, Override::mailing_list);
}

TEST(DmarcErrors, DnsFailureIsTemperrorAndBadRecordPermerror) {
  dns::ZoneResolver z;
  z.fail("_dmarc.example.com", dns::Status::servfail);
  EXPECT_EQ(evaluate(z, pass_spf("example.com", "example.net")).verdict, Verdict::temperror);
  dns::ZoneResolver bad;
  bad.add_txt("_dmarc.example.org", "v=DMARC1; p=reject; broken");
  auto r = evaluate(bad, pass_spf("example.org", "example.net"));
  EXPECT_EQ(r.verdict, Verdict::permerror);
  EXPECT_NE(r.reason.find("tag without '='"), std::string::npos);
  dns::ZoneResolver two;
  two.add_txt("_dmarc.example.org", "v=DMARC1; p=reject");
  two.add_txt("_dmarc.example.org", "v=DMARC1; p=none");
  EXPECT_EQ(evaluate(two, pass_spf("example.org", "example.net")).verdict, Verdict::none)
      << "several records at one name are all discarded";
}

TEST(DmarcRfc7489, UsesThePublicSuffixListForTheOrganization) {
  auto psl = PublicSuffixList::system();
  ASSERT_TRUE(psl);
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.co.uk", "v=DMARC1; p=quarantine; sp=reject");
  Options opt;
  opt.mode = Mode::rfc7489;
  opt.psl = &*psl;
  auto r = evaluate(z, pass_spf("mail.example.co.uk", "bounce.example.co.uk"), opt);
  EXPECT_EQ(r.org_domain, "example.co.uk");
  EXPECT_EQ(r.verdict, Verdict::pass);
  auto f = evaluate(z, pass_spf("mail.example.co.uk", "other.co.uk"), opt);
  EXPECT_EQ(f.verdict, Verdict::fail);
  EXPECT_EQ(f.requested, Policy::reject);
  EXPECT_EQ(z.queries(), 4u) << "RFC 7489 asks at most the From domain and its organizational domain";
}

TEST(Compauth, ImplicitVerdictsWithoutDmarcRecord) {
  dns::ZoneResolver z;
  Input in;
  in.from_domain = "example.com";
  in.dkim = {{"example.com", "s", AuthOutcome::pass}};
  EXPECT_EQ(evaluate(z, in).compauth_reason, 101);
  in.dkim = {{"esp.example.net", "s", AuthOutcome::pass}};
  auto soft = evaluate(z, in);
  EXPECT_EQ(soft.compauth, CompVerdict::softpass);
  EXPECT_EQ(soft.compauth_reason, 201);
  in.dkim.clear();
  in.spf = {"example.com", AuthOutcome::fail};
  auto fail = evaluate(z, in);
  EXPECT_EQ(fail.verdict, Verdict::none);
  EXPECT_EQ(fail.compauth, CompVerdict::fail);
  EXPECT_EQ(fail.compauth_reason, 1);
  in.spf = {"example.com", AuthOutcome::none};
  EXPECT_EQ(evaluate(z, in).compauth_reason, 2);
}

TEST(DmarcAggregate, RecordCarriesWhatReportsNeed) {
  dns::ZoneResolver z;
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
  Input in = pass_spf("example.com", "example.net");
  auto r = evaluate(z, in);
  auto a = aggregate_record(r, in, "192.0.2.1");
  EXPECT_EQ(a.source_ip, "192.0.2.1");
  EXPECT_EQ(a.header_from, "example.com");
  EXPECT_EQ(a.disposition, Policy::reject);
  EXPECT_EQ(a.dmarc, Verdict::fail);
  EXPECT_EQ(a.spf.domain, "example.net");
}

}  // namespace
}  // namespace mailmoat::auth::dmarc
