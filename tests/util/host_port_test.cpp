#include "util/host_port.h"

#include <gtest/gtest.h>

namespace mailmoat::util {

TEST(HostPort, ParsesIpv4Ipv6AndLocalhost) {
  auto a = parse_host_port("127.0.0.1:2525");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 2525);
  auto b = parse_host_port("[::1]:25");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  auto c = parse_host_port("localhost:0");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "127.0.0.1");
}

TEST(HostPort, RejectsNamesMissingPortsAndBigPorts) {
  EXPECT_FALSE(parse_host_port("mail.example.com:25"));
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("127.0.0.1:65536"));
  EXPECT_FALSE(parse_host_port("[::1:25"));
}

TEST(HostPort, FormatsIpv6WithBrackets) {
  EXPECT_EQ(format_host_port("::1", 25), "[::1]:25");
  EXPECT_EQ(format_host_port("127.0.0.1", 25), "127.0.0.1:25");
}

}  // namespace mailmoat::util

#include "util/cidr.h"
#include "util/crc32.h"

namespace mailmoat::util {

TEST(Cidr, MatchesIpv4Ipv6AndMappedAddresses) {
  auto n = parse_network("10.1.0.0/16");
  ASSERT_TRUE(n);
  EXPECT_TRUE(n->contains("10.1.200.3"));
  EXPECT_FALSE(n->contains("10.2.0.1"));
  EXPECT_TRUE(n->contains("::ffff:10.1.0.9"));
  auto v6 = parse_network("2001:db8::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("2001:db8:7fff::1"));
  EXPECT_FALSE(v6->contains("2001:db8:8000::1"));
  EXPECT_FALSE(v6->contains("10.1.0.1"));
  EXPECT_TRUE(parse_network("127.0.0.1")->contains("127.0.0.1"));
  EXPECT_FALSE(parse_network("10.0.0.0/33"));
  EXPECT_FALSE(parse_network("not-an-ip"));
}

TEST(Crc32, MatchesTheStandardCheckValue) { EXPECT_EQ(crc32("123456789"), 0xCBF43926u); }

// The spool checksums head and message as crc32(message, crc32(head)): chaining must
// equal one pass over the concatenation, for any split, and for inputs past zlib's
// word-at-a-time thresholds.
TEST(Crc32, ChainsLikeOnePassOverTheConcatenation) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += static_cast<char>(i * 131 + (i >> 7));
  EXPECT_EQ(crc32(""), 0u);
  EXPECT_EQ(crc32("56789", crc32("1234")), 0xCBF43926u);
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{4097}, big.size()}) {
    std::string_view v(big);
    EXPECT_EQ(crc32(v.substr(cut), crc32(v.substr(0, cut))), crc32(v)) << "cut at " << cut;
  }
  EXPECT_EQ(crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
}

}  // namespace mailmoat::util
