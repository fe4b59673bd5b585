// RFC 8461 §3.1/3.2/4.1: the TXT record, the policy file and MX matching.
#include <gtest/gtest.h>

#include "tls/mta_sts_policy.h"

namespace mailmoat::tls {

TEST(StsRecord, IdIsTakenFromAValidRecord) {
  EXPECT_EQ(parse_sts_record("v=STSv1; id=20160831085700Z;").value(), "20160831085700Z");
  EXPECT_EQ(parse_sts_record("v=STSv1;id=abc; ext=1").value(), "abc");
}

TEST(StsRecord, MalformedRecordsAreRefusedWithAReason) {
  EXPECT_NE(parse_sts_record("id=abc; v=STSv1").error().message.find("start with v=STSv1"), std::string::npos);
  EXPECT_NE(parse_sts_record("v=STSv1;").error().message.find("no id"), std::string::npos);
  EXPECT_FALSE(parse_sts_record("v=STSv1; id=has-dash"));
  EXPECT_FALSE(parse_sts_record("v=STSv1; id=" + std::string(33, 'a')));
  EXPECT_FALSE(parse_sts_record(""));
}

TEST(StsRecord, ExactlyOneStsRecordMustBePublished) {
  EXPECT_EQ(select_sts_record({"v=spf1 -all", "v=STSv1; id=1"}).value(), "1");
  EXPECT_NE(select_sts_record({"v=STSv1; id=1", "v=STSv1; id=2"}).error().message.find("more than one"),
            std::string::npos);
  EXPECT_FALSE(select_sts_record({"v=spf1 -all"}));
}

TEST(StsPolicy, EnforcePolicyParsesWithCrlfOrLf) {
  auto p = parse_sts_policy("version: STSv1\r\nmode: enforce\r\nmx: mail.Example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->mode, StsMode::enforce);
  EXPECT_EQ(p->max_age, 604800u);
  ASSERT_EQ(p->mx.size(), 2u);
  EXPECT_EQ(p->mx[0], "mail.example.com");
  auto lf = parse_sts_policy("version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1\nfuture: x\n");
  ASSERT_TRUE(lf) << lf.error().message;
  EXPECT_EQ(lf->mode, StsMode::testing);
}

TEST(StsPolicy, InvalidPoliciesAreRefusedWithAReason) {
  EXPECT_NE(parse_sts_policy("mode: enforce\nversion: STSv1\nmx: a.example\nmax_age: 1\n").error().message.find("first line"),
            std::string::npos);
  EXPECT_NE(parse_sts_policy("version: STSv1\nmode: enforce\nmax_age: 1\n").error().message.find("no mx"), std::string::npos);
  EXPECT_NE(parse_sts_policy("version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n").error().message.find("mode"),
            std::string::npos);
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n"));
  EXPECT_FALSE(parse_sts_policy("version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n"));
  EXPECT_FALSE(parse_sts_policy(std::string(kMaxStsPolicySize + 1, 'x')));
  EXPECT_TRUE(parse_sts_policy("version: STSv1\nmode: none\nmax_age: 1\n"));  // none needs no mx
}

TEST(StsPolicy, MxWildcardCoversExactlyOneLabel) {
  EXPECT_TRUE(sts_mx_matches("*.example.net", "mx1.example.net"));
  EXPECT_TRUE(sts_mx_matches("*.example.net", "MX1.example.net."));
  EXPECT_FALSE(sts_mx_matches("*.example.net", "a.b.example.net"));
  EXPECT_FALSE(sts_mx_matches("*.example.net", "example.net"));
  EXPECT_TRUE(sts_mx_matches("mail.example.com", "mail.example.com"));
  EXPECT_FALSE(sts_mx_matches("mail.example.com", "evil.example.com"));
}

}  // namespace mailmoat::tls
