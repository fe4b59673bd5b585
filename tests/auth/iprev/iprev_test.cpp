#include "auth/iprev/iprev.h"

#include <gtest/gtest.h>

namespace mailmoat::auth::iprev {
namespace {

dns::IpAddress ip(const char* s) { return *dns::IpAddress::parse(s); }

TEST(Iprev, PassWhenAPtrNameResolvesBack) {
  dns::ZoneResolver z;
  z.add_ptr("1.2.0.192.in-addr.arpa", "alias.example.net");
  z.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  z.add_a("mail.example.com", "192.0.2.1");
  auto r = check(z, ip("192.0.2.1"));
  EXPECT_EQ(r.verdict, Verdict::pass);
  EXPECT_EQ(r.name, "mail.example.com");
}

TEST(Iprev, Ipv6UsesNibbleNameAndAaaa) {
  dns::ZoneResolver z;
  z.add_ptr(ip("2001:db8::25").reverse_name(), "mx6.example.com");
  z.add_aaaa("mx6.example.com", "2001:db8::25");
  EXPECT_EQ(check(z, ip("2001:db8::25")).verdict, Verdict::pass);
}

TEST(Iprev, FailWhenNoNameResolvesBack) {
  dns::ZoneResolver z;
  z.add_ptr("1.2.0.192.in-addr.arpa", "liar.example.com");
  z.add_a("liar.example.com", "198.51.100.9");
  auto r = check(z, ip("192.0.2.1"));
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.name, "liar.example.com");
}

TEST(Iprev, PermerrorWithoutPtrAndTemperrorOnDnsFailure) {
  dns::ZoneResolver z;
  EXPECT_EQ(check(z, ip("192.0.2.1")).verdict, Verdict::permerror);
  z.fail("1.2.0.192.in-addr.arpa", dns::Status::timeout);
  EXPECT_EQ(check(z, ip("192.0.2.1")).verdict, Verdict::temperror);
  dns::ZoneResolver fwd;
  fwd.add_ptr("2.2.0.192.in-addr.arpa", "slow.example.com");
  fwd.fail("slow.example.com", dns::Status::servfail);
  EXPECT_EQ(check(fwd, ip("192.0.2.2")).verdict, Verdict::temperror);
}

}  // namespace
}  // namespace mailmoat::auth::iprev
