#include "dns/zone_resolver.h"

#include <gtest/gtest.h>

#include "dns/ip_address.h"

namespace mailmoat::dns {
namespace {

Answer ask(ZoneResolver& r, std::string name, RecordType type) {
  Answer got;
  bool called = false;
  r.resolve(Question{std::move(name), type}, [&](Answer a) {
    got = std::move(a);
    called = true;
  });
  EXPECT_TRUE(called) << "the zone resolver must answer synchronously";
  return got;
}

constexpr const char* zone = R"zone(
$ORIGIN example.com.
$TTL 300
@        IN  TXT  "v=spf1 " "ip4:192.0.2.0/24 -all"   ; two strings, one record
         IN  MX   10 mail
         IN  MX   5  backup.example.net.
mail     600 IN A 192.0.2.10
mail         AAAA 2001:DB8::10
quoted   TXT  "semi;colon \"quote\" back\\slash \065BC"
multi    TXT  ( "first"
                "second" )
alias    CNAME mail
_25._tcp.mail TLSA 3 1 1 ( 0123456789abcdef
                           FEDCBA9876543210 )
$ORIGIN 2.0.192.in-addr.arpa.
10       PTR  mail.example.com.
)zone";

TEST(ZoneResolver, LoadsMasterFileWithOriginTtlAndRelativeNames) {
  ZoneResolver r;
  ASSERT_TRUE(r.load(zone, "", "test.zone"));
  Answer txt = ask(r, "example.com", RecordType::txt);
  ASSERT_EQ(txt.status, Status::ok);
  ASSERT_EQ(txt.txt.size(), 1u);
  EXPECT_EQ(txt.txt[0], "v=spf1 ip4:192.0.2.0/24 -all");
  EXPECT_EQ(txt.ttl, 300u);

  Answer a = ask(r, "MAIL.example.com.", RecordType::a);
  ASSERT_EQ(a.status, Status::ok);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(a.ttl, 300u) << "a name's TTL is the smallest of its records";
  EXPECT_EQ(ask(r, "mail.example.com", RecordType::aaaa).addresses,
            std::vector<std::string>{"2001:db8::10"});
  EXPECT_EQ(ask(r, "10.2.0.192.in-addr.arpa", RecordType::ptr).names,
            std::vector<std::string>{"mail.example.com"});
}

TEST(ZoneResolver, MxSortedByPreferenceWithAbsoluteAndRelativeExchanges) {
  ZoneResolver r;
  ASSERT_TRUE(r.load(zone));
  Answer mx = ask(r, "example.com", RecordType::mx);
  ASSERT_EQ(mx.mx.size(), 2u);
  EXPECT_EQ(mx.mx[0].preference, 5);
  EXPECT_EQ(mx.mx[0].exchange, "backup.example.net");
  EXPECT_EQ(mx.mx[1].exchange, "mail.example.com");
}

TEST(ZoneResolver, QuotedStringsEscapesAndParentheses) {
  ZoneResolver r;
  ASSERT_TRUE(r.load(zone));
  EXPECT_EQ(ask(r, "quoted.example.com", RecordType::txt).txt[0], "semi;colon \"quote\" back\\slash ABC");
  EXPECT_EQ(ask(r, "multi.example.com", RecordType::txt).txt[0], "firstsecond");
  Answer tlsa = ask(r, "_25._tcp.mail.example.com", RecordType::tlsa);
  ASSERT_EQ(tlsa.tlsa.size(), 1u);
  EXPECT_EQ(tlsa.tlsa[0].usage, 3);
  EXPECT_EQ(tlsa.tlsa[0].data.size(), 16u);
  EXPECT_EQ(static_cast<unsigned char>(tlsa.tlsa[0].data[8]), 0xfeu);
}

TEST(ZoneResolver, FollowsCnameAndDistinguishesNodataFromNxdomain) {
  ZoneResolver r;
  ASSERT_TRUE(r.load(zone));
  EXPECT_EQ(ask(r, "alias.example.com", RecordType::a).addresses, std::vector<std::string>{"192.0.2.10"});
  EXPECT_EQ(ask(r, "alias.example.com", RecordType::a).canonical_name, "mail.example.com");
  EXPECT_EQ(ask(r, "mail.example.com", RecordType::a).canonical_name, "");
  EXPECT_EQ(ask(r, "mail.example.com", RecordType::txt).status, Status::nodata);
  EXPECT_EQ(ask(r, "nothere.example.com", RecordType::txt).status, Status::nxdomain);
}

TEST(ZoneResolver, CnameLoopIsServfail) {
  ZoneResolver r;
  r.add_cname("a.test", "b.test");
  r.add_cname("b.test", "a.test");
  EXPECT_EQ(ask(r, "a.test", RecordType::a).status, Status::servfail);
}

TEST(ZoneResolver, FailureAppliesToTypesWithoutRecords) {
  ZoneResolver r;
  r.add_a("slow.test", "192.0.2.1");
  r.fail("slow.test", Status::timeout);
  r.fail("broken.test", Status::servfail);
  EXPECT_EQ(ask(r, "slow.test", RecordType::a).status, Status::ok);
  EXPECT_EQ(ask(r, "slow.test", RecordType::txt).status, Status::timeout);
  EXPECT_EQ(ask(r, "broken.test", RecordType::mx).status, Status::servfail);
  EXPECT_EQ(r.queries(), 3u);
}

TEST(ZoneResolver, ErrorsNameFileAndLine) {
  ZoneResolver r;
  auto bad = r.load("a.test. A 192.0.2.1\nb.test. A not-an-address\n", "", "z.zone");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "z.zone:2: A needs one address");
  auto unbalanced = r.load("x.test. TXT ( \"a\"\n", "", "u.zone");
  ASSERT_FALSE(unbalanced);
  EXPECT_NE(unbalanced.error().message.find("u.zone:1: unbalanced"), std::string::npos);
  auto unterminated = r.load("x.test. TXT \"abc\n", "", "q.zone");
  ASSERT_FALSE(unterminated);
  EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
  EXPECT_FALSE(r.load("$INCLUDE other.zone\n"));
  EXPECT_FALSE(r.load("x.test. HINFO a b\n"));
}

TEST(ZoneResolver, ControlCharactersInsideTokensDoNotStallTheLexer) {
  // Found by fuzzing: a vertical tab once stopped the lexer without consuming it.
  ZoneResolver r;
  ASSERT_TRUE(r.load("a.test. TXT x\vy\n"));
  EXPECT_EQ(r.lookup({"a.test", RecordType::txt}).txt, std::vector<std::string>{"x\vy"});
}

TEST(IpAddress, ParsesPrintsAndFoldsMappedIpv4) {
  auto v4 = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->reverse_name(), "1.2.0.192.in-addr.arpa");
  auto mapped = IpAddress::parse("::FFFF:192.0.2.1");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *v4);
  auto v6 = IpAddress::parse("2001:DB8::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->to_string(), "2001:db8::1");
  EXPECT_EQ(v6->reverse_name(),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  EXPECT_FALSE(IpAddress::parse("192.0.2"));
  EXPECT_FALSE(IpAddress::parse("1.2.3.4.5"));
}

TEST(IpAddress, NetworkMatching) {
  auto ip = *IpAddress::parse("192.0.2.129");
  EXPECT_TRUE(ip.in_network(*IpAddress::parse("192.0.2.128"), 25));
  EXPECT_FALSE(ip.in_network(*IpAddress::parse("192.0.2.0"), 25));
  EXPECT_TRUE(ip.in_network(*IpAddress::parse("10.0.0.0"), 0));
  EXPECT_FALSE(ip.in_network(*IpAddress::parse("::"), 0)) << "families never match";
  auto v6 = *IpAddress::parse("2001:db8::1");
  EXPECT_TRUE(v6.in_network(*IpAddress::parse("2001:db8::"), 32));
  EXPECT_FALSE(v6.in_network(*IpAddress::parse("2001:db9::"), 32));
}

}  // namespace
}  // namespace mailmoat::dns
