// Connection filtering logic with the zone-file resolver as DNS: IP allow list,
// sender block/allow lists (allow only when authenticated), DNS block lists
// with return-code meanings (RFC 5782). The gateway-level tests are in
// tests/integration/rules_test.cpp.
#include "filters/connection/connection_filter.h"

#include <gtest/gtest.h>

#include "dns/zone_resolver.h"

namespace mailmoat::filters {
namespace {

pipeline::Verdict run(ConnectionFilter& f, pipeline::MessageContext& ctx) {
  std::optional<pipeline::Verdict> v;
  f.on_message(ctx, [&](pipeline::Verdict x) { v = std::move(x); });
  EXPECT_TRUE(v.has_value());
  return v.value_or(pipeline::Verdict{});
}

pipeline::MessageContext inbound(const std::string& ip, const std::string& sender) {
  pipeline::MessageContext ctx;
  ctx.connection.role = "inbound";
  ctx.connection.client_address = ip;
  ctx.envelope.sender = sender;
  return ctx;
}

TEST(ConnectionFilter, QueryNamesFollowRfc5782) {
  EXPECT_EQ(dnsbl_query("192.0.2.99", "bl.example"), "99.2.0.192.bl.example");
  EXPECT_EQ(dnsbl_query("2001:db8::1", "bl.example"),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example");
  EXPECT_EQ(dnsbl_query("not an ip", "bl.example"), "");
}

TEST(ConnectionFilter, SenderListsMatchAddressesAndDomainsWithSubdomains) {
  std::vector<std::string> list{"bad.example", "eve@corp.example"};
  EXPECT_TRUE(sender_listed("X@Bad.Example", list));
  EXPECT_TRUE(sender_listed("x@mail.bad.example", list));
  EXPECT_FALSE(sender_listed("x@notbad.example", list));
  EXPECT_TRUE(sender_listed("eve@corp.example", list));
  EXPECT_FALSE(sender_listed("bob@corp.example", list));
  EXPECT_FALSE(sender_listed("", list));
}

TEST(ConnectionFilter, IpAllowListSetsSclMinusOne) {
  dns::ZoneResolver zone;
  ConnectionConfig c;
  c.ip_allow.push_back(*util::parse_network("192.0.2.0/24"));
  ConnectionFilter f(c, zone);
  auto ctx = inbound("192.0.2.7", "a@x.example");
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_EQ(ctx.scl, -1);
  EXPECT_EQ(ctx.verdict_reasons, std::vector<std::string>{"ip-allow"});
}

TEST(ConnectionFilter, SenderBlockRejectsAndAllowNeedsAuthentication) {
  dns::ZoneResolver zone;
  ConnectionConfig c;
  c.sender_block = {"spam.example"};
  c.sender_allow = {"friend.example"};
  ConnectionFilter f(c, zone);
  auto blocked = inbound("198.51.100.1", "x@spam.example");
  auto v = run(f, blocked);
  EXPECT_EQ(v.disposition, pipeline::Disposition::reject);
  EXPECT_EQ(v.code, 550);
  EXPECT_EQ(v.text, "Sender address rejected: on the block list");

  auto forged = inbound("198.51.100.1", "x@friend.example");
  forged.auth.spf = "fail";
  run(f, forged);
  EXPECT_FALSE(forged.scl);
  ASSERT_FALSE(forged.notes.empty());
  EXPECT_EQ(forged.notes[0].event, "sender_allow_ignored");

  auto real = inbound("198.51.100.1", "x@friend.example");
  real.auth.dmarc = "pass";
  run(f, real);
  EXPECT_EQ(real.scl, -1);
}

TEST(ConnectionFilter, SharedAllowListFromTheStoreFollowsTheSameRule) {
  dns::ZoneResolver zone;
  ConnectionConfig c;
  auto list = std::make_shared<std::vector<std::string>>();
  c.shared_sender_allow = [&list] { return std::shared_ptr<const std::vector<std::string>>(list); };
  ConnectionFilter f(c, zone);
  auto before = inbound("198.51.100.1", "news@shop.example");
  before.auth.spf = "pass";
  run(f, before);
  EXPECT_FALSE(before.scl);  // not listed yet
  list->push_back("news@shop.example");  // an admin allowed it from the quarantine
  auto after = inbound("198.51.100.1", "News@Shop.example");
  after.auth.spf = "pass";
  run(f, after);
  EXPECT_EQ(after.scl, -1);
  auto forged = inbound("198.51.100.1", "news@shop.example");
  forged.auth.spf = "fail";
  run(f, forged);
  EXPECT_FALSE(forged.scl);
  ASSERT_FALSE(forged.notes.empty());
  EXPECT_EQ(forged.notes[0].event, "sender_allow_ignored");
}

TEST(ConnectionFilter, DnsblListingRaisesSclWithItsMeaning) {
  dns::ZoneResolver zone;
  zone.add_a("2.0.0.127.bl.example", "127.0.0.4");
  zone.add_a("2.0.0.127.other.example", "127.0.0.9");
  ConnectionConfig c;
  c.dnsbl_zones = {"bl.example", "other.example", "empty.example"};
  c.dnsbl_codes = {{"127.0.0.4", "exploited host"}};
  c.dnsbl_scl = 8;
  ConnectionFilter f(c, zone);
  auto ctx = inbound("127.0.0.2", "a@x.example");
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
  EXPECT_EQ(ctx.scl, 8);
  EXPECT_EQ(ctx.verdict_reasons, std::vector<std::string>{"dnsbl:bl.example"});
  ASSERT_EQ(ctx.notes.size(), 1u);
  // 127.0.0.9 is not a configured code, so other.example does not count.
  EXPECT_EQ(ctx.notes[0].detail, "127.0.0.2 on bl.example: exploited host (127.0.0.4)");

  auto clean = inbound("127.0.0.3", "a@x.example");
  run(f, clean);
  EXPECT_FALSE(clean.scl);
}

TEST(ConnectionFilter, OtherRolesAreNotJudged) {
  dns::ZoneResolver zone;
  ConnectionConfig c;
  c.sender_block = {"corp.example"};
  ConnectionFilter f(c, zone);
  auto ctx = inbound("10.0.0.1", "me@corp.example");
  ctx.connection.role = "submission";
  EXPECT_EQ(run(f, ctx).disposition, pipeline::Disposition::accept);
}

// A resolver that never answers one zone (a dead DNS block list server).
class SilentFor : public dns::Resolver {
 public:
  SilentFor(dns::Resolver& inner, std::string silent) : inner_(inner), silent_(std::move(silent)) {}
  void resolve(dns::Question q, Callback done) override {
    if (q.name.ends_with(silent_)) parked_.push_back(std::move(done));
    else inner_.resolve(std::move(q), std::move(done));
  }
  std::vector<Callback> parked_;

 private:
  dns::Resolver& inner_;
  std::string silent_;
};

TEST(ConnectionFilter, DnsblTimeoutIsTracedAndMailContinues) {
  dns::ZoneResolver zone;
  zone.add_a("2.0.0.127.bl.example", "127.0.0.4");
  SilentFor resolver(zone, "slow.example");
  ConnectionConfig c;
  c.dnsbl_zones = {"slow.example", "bl.example"};
  c.dnsbl_scl = 6;
  c.dnsbl_timeout = std::chrono::milliseconds(250);
  std::move_only_function<void()> timer;
  std::chrono::milliseconds asked{0};
  ConnectionFilter f(c, resolver, [&](std::chrono::milliseconds d, std::move_only_function<void()> fn) {
    asked = d;
    timer = std::move(fn);
  });
  auto ctx = inbound("127.0.0.2", "a@x.example");
  std::optional<pipeline::Verdict> v;
  f.on_message(ctx, [&](pipeline::Verdict x) { v = std::move(x); });
  EXPECT_FALSE(v) << "must wait for the slow zone until the budget is spent";
  EXPECT_EQ(asked, std::chrono::milliseconds(250));
  timer();  // the budget is spent
  ASSERT_TRUE(v);
  EXPECT_EQ(v->disposition, pipeline::Disposition::accept);
  EXPECT_EQ(ctx.scl, 6);  // the zone that answered still counts
  ASSERT_EQ(ctx.notes.size(), 2u);
  EXPECT_EQ(ctx.notes[0].event, "dnsbl_timeout");
  EXPECT_EQ(ctx.notes[0].detail, "slow.example: no answer within 250 ms, ignored");
  // A late answer changes nothing and calls nothing.
  ASSERT_EQ(resolver.parked_.size(), 1u);
  dns::Answer late;
  late.status = dns::Status::ok;
  late.addresses = {"127.0.0.2"};
  resolver.parked_[0](late);
  EXPECT_EQ(ctx.notes.size(), 2u);
}

}  // namespace
}  // namespace mailmoat::filters
