#include "util/strings.h"

#include <gtest/gtest.h>

namespace mailmoat::util {

TEST(Strings, CaseFoldingIsAsciiOnly) {
  EXPECT_TRUE(iequals("MAIL FROM", "mail from"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));
  EXPECT_EQ(to_lower("HeLLo"), "hello");
}

TEST(Strings, TrimRemovesSpaceTabAndLineEnds) { EXPECT_EQ(trim(" \t a b \r\n"), "a b"); }

TEST(Strings, SplitKeepsEmptyParts) {
  auto parts = split("a..b", '.');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1], "");
}

TEST(Strings, ParseUintRejectsSignsSpacesAndOverflow) {
  EXPECT_EQ(parse_uint("42"), 42u);
  EXPECT_FALSE(parse_uint("-1"));
  EXPECT_FALSE(parse_uint(" 1"));
  EXPECT_FALSE(parse_uint(""));
  EXPECT_FALSE(parse_uint("99999999999999999999999"));
}

TEST(Strings, EightBitAnywhereIsFound) {
  EXPECT_FALSE(has_8bit(""));
  EXPECT_FALSE(has_8bit(std::string(1000, 'x')));
  for (std::size_t at : {0u, 7u, 8u, 15u, 16u, 999u}) {
    std::string s(1000, 'x');
    s[at] = static_cast<char>(0x80);
    EXPECT_TRUE(has_8bit(s)) << at;
  }
  EXPECT_TRUE(has_8bit("\xC3\xBC"));
}

}  // namespace mailmoat::util

TEST(Strings, ContainsIgnoringAsciiCase) {
  EXPECT_TRUE(mailmoat::util::icontains("Content-Type: text/plain; NAME=a.exe", "name"));
  EXPECT_TRUE(mailmoat::util::icontains("filename*0=x", "NAME"));
  EXPECT_TRUE(mailmoat::util::icontains("anything", ""));
  EXPECT_FALSE(mailmoat::util::icontains("", "a"));
  EXPECT_FALSE(mailmoat::util::icontains("nam", "name"));
  EXPECT_FALSE(mailmoat::util::icontains("n\xC3\xA1me", "name"));  // ASCII folding only
}
