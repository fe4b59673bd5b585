// Outbound TLS policy selection: levels, domain matching, REQUIRETLS raising.
#include <gtest/gtest.h>

#include "tls/client_context.h"
#include "tls/client_policy.h"

namespace mailmoat::tls {

TEST(ClientPolicy, LevelsParseByName) {
  EXPECT_EQ(parse_level("verify"), Level::verify);
  EXPECT_EQ(parse_level("fingerprint"), Level::fingerprint);
  EXPECT_FALSE(parse_level("dane_only"));  // spelled dane-only, as in Postfix
  EXPECT_TRUE(requires_tls(Level::encrypt));
  EXPECT_FALSE(requires_tls(Level::may));
  EXPECT_TRUE(authenticates(Level::secure));
  EXPECT_FALSE(authenticates(Level::encrypt));
}

TEST(ClientPolicy, FirstMatchingEntryWinsElseTheDefault) {
  ClientPolicy fallback;
  fallback.level = Level::may;
  PolicyEntry partner{{"partner.test", "*.partner.test"}, {}};
  partner.policy.level = Level::verify;
  partner.policy.origin = "tls.policy[0]";
  PolicyEntry all_sub{{"*.test"}, {}};
  all_sub.policy.level = Level::encrypt;
  ClientPolicyTable table(fallback, {partner, all_sub});
  EXPECT_EQ(table.for_domain("Partner.Test").level, Level::verify);
  EXPECT_EQ(table.for_domain("eu.partner.test").level, Level::verify);
  EXPECT_EQ(table.for_domain("other.test").level, Level::encrypt);
  EXPECT_EQ(table.for_domain("example.org").level, Level::may);
}

TEST(ClientPolicy, RequireTlsRaisesToVerifyButKeepsStricterLevels) {
  ClientPolicy fallback;
  PolicyEntry pinned{{"pinned.test"}, {}};
  pinned.policy.level = Level::fingerprint;
  ClientPolicyTable table(fallback, {pinned});
  auto raised = table.for_domain("example.org", true);
  EXPECT_EQ(raised.level, Level::verify);
  EXPECT_NE(raised.origin.find("REQUIRETLS"), std::string::npos);
  EXPECT_EQ(table.for_domain("pinned.test", true).level, Level::fingerprint);
}

TEST(ClientPolicy, KeyDistinguishesSettings) {
  ClientPolicy a, b;
  b.client_cert = "/etc/client.pem";
  EXPECT_NE(a.key(), b.key());
}

TEST(ClientPolicy, FingerprintIsSha256Hex) {
  EXPECT_EQ(fingerprint_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace mailmoat::tls
