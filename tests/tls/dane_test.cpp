// Which TLSA records DANE for SMTP may use (RFC 7672 §3.1.3, RFC 6698/7218).
#include "tls/dane.h"

#include <gtest/gtest.h>

#include "tls/client_policy.h"

namespace mailmoat::tls {
namespace {

dns::TlsaRecord rec(int u, int s, int m, std::size_t len) {
  return dns::TlsaRecord{static_cast<std::uint8_t>(u), static_cast<std::uint8_t>(s), static_cast<std::uint8_t>(m),
                         std::string(len, '\x11')};
}

TEST(Dane, DaneTaAndDaneEeAreUsable) {
  auto set = usable_tlsa({rec(3, 1, 1, 32), rec(2, 0, 2, 64), rec(3, 0, 0, 300)});
  EXPECT_EQ(set.usable.size(), 3u);
  EXPECT_TRUE(set.ignored.empty());
}

TEST(Dane, PkixUsagesAreUnusableForSmtp) {
  auto set = usable_tlsa({rec(0, 0, 1, 32), rec(1, 1, 1, 32)});
  EXPECT_TRUE(set.usable.empty());
  ASSERT_EQ(set.ignored.size(), 2u);
  EXPECT_NE(set.ignored[0].find("PKIX-TA is unusable for SMTP"), std::string::npos) << set.ignored[0];
  EXPECT_NE(set.ignored[1].find("PKIX-EE is unusable for SMTP"), std::string::npos) << set.ignored[1];
}

TEST(Dane, MalformedRecordsAreIgnoredWithTheReason) {
  auto set = usable_tlsa({rec(4, 1, 1, 32), rec(3, 2, 1, 32), rec(3, 1, 3, 32), rec(3, 1, 1, 31), rec(3, 1, 2, 32),
                          rec(3, 1, 0, 0), rec(3, 1, 1, 32)});
  ASSERT_EQ(set.usable.size(), 1u);
  ASSERT_EQ(set.ignored.size(), 6u);
  EXPECT_NE(set.ignored[0].find("unknown certificate usage"), std::string::npos);
  EXPECT_NE(set.ignored[1].find("unknown selector"), std::string::npos);
  EXPECT_NE(set.ignored[2].find("unknown matching type"), std::string::npos);
  EXPECT_NE(set.ignored[3].find("SHA2-256 data is not 32 bytes"), std::string::npos);
  EXPECT_NE(set.ignored[4].find("SHA2-512 data is not 64 bytes"), std::string::npos);
  EXPECT_NE(set.ignored[5].find("empty association data"), std::string::npos);
}

TEST(Dane, LevelsParseAndAuthenticate) {
  EXPECT_EQ(parse_level("dane"), Level::dane);
  EXPECT_EQ(parse_level("dane-only"), Level::dane_only);
  EXPECT_STREQ(level_name(Level::dane_only), "dane-only");
  EXPECT_TRUE(uses_dane(Level::dane));
  EXPECT_FALSE(uses_dane(Level::verify));
  EXPECT_TRUE(requires_tls(Level::dane_only));
}

}  // namespace
}  // namespace mailmoat::tls
