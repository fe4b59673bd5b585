// RFC 6125 §6.4 name matching: wildcards only as the whole left-most label.
#include <gtest/gtest.h>

#include "tls/identity.h"

namespace mailmoat::tls {

TEST(NameMatches, ExactNamesMatchCaseInsensitivelyAndIgnoreTheRootDot) {
  EXPECT_TRUE(name_matches("MX.Partner.TEST", "mx.partner.test"));
  EXPECT_TRUE(name_matches("mx.partner.test.", "mx.partner.test"));
  EXPECT_FALSE(name_matches("mx.partner.test", "mx.partner.org"));
  EXPECT_FALSE(name_matches("", "mx.partner.test"));
}

TEST(NameMatches, WildcardCoversExactlyOneLeftMostLabel) {
  EXPECT_TRUE(name_matches("*.partner.test", "mx.partner.test"));
  EXPECT_FALSE(name_matches("*.partner.test", "partner.test"));
  EXPECT_FALSE(name_matches("*.partner.test", "a.mx.partner.test"));
  EXPECT_FALSE(name_matches("*.partner.test", "mx.evil.test"));
}

TEST(NameMatches, PartialAndMisplacedWildcardsAreRefused) {
  EXPECT_FALSE(name_matches("m*.partner.test", "mx.partner.test"));
  EXPECT_FALSE(name_matches("mx.*.test", "mx.partner.test"));
  EXPECT_FALSE(name_matches("*.test", "partner.test"));  // a wildcard over a whole TLD
  EXPECT_FALSE(name_matches("*", "partner"));
}

TEST(NameMatches, ConfiguredWildcardAcceptsAnyHostOfTheDomain) {
  EXPECT_TRUE(name_matches("mx1.partner.test", "*.partner.test"));
  EXPECT_FALSE(name_matches("partner.test", "*.partner.test"));
  EXPECT_TRUE(name_matches("*.partner.test", "*.partner.test"));
  EXPECT_FALSE(name_matches("*.other.test", "*.partner.test"));
}

TEST(NameMatches, AnyOfTwoLists) {
  EXPECT_TRUE(any_name_matches({"a.test", "*.partner.test"}, {"mx.partner.test"}));
  EXPECT_FALSE(any_name_matches({}, {"mx.partner.test"}));
}

}  // namespace mailmoat::tls
