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
