// SPF behaviour beyond the OpenSPF suite: RFC 7208 §7.4 macro examples, the
// asynchronous path, the Received-SPF field and hostile records.
#include <gtest/gtest.h>

#include <deque>

#include "auth/spf/macro.h"
#include "auth/spf/record.h"
#include "auth/spf/spf.h"

namespace mailmoat::auth::spf {
namespace {

MacroContext rfc_context(const char* ip = "192.0.2.3") {
  MacroContext ctx;
  ctx.sender = "strong-bad@email.example.com";
  ctx.local_part = "strong-bad";
  ctx.sender_domain = "email.example.com";
  ctx.domain = "email.example.com";
  ctx.ip = *dns::IpAddress::parse(ip);
  ctx.helo = "mx.example.org";
  return ctx;
}

TEST(SpfMacro, Rfc7208Section7_4Examples) {
  auto ctx = rfc_context();
  auto x = [&](const char* m) { return *expand(m, ctx, MacroUse::domain); };
  EXPECT_EQ(x("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(x("%{o}"), "email.example.com");
  EXPECT_EQ(x("%{d4}"), "email.example.com");
  EXPECT_EQ(x("%{d3}"), "email.example.com");
  EXPECT_EQ(x("%{d2}"), "example.com");
  EXPECT_EQ(x("%{d1}"), "com");
  EXPECT_EQ(x("%{dr}"), "com.example.email");
  EXPECT_EQ(x("%{d2r}"), "example.email");
  EXPECT_EQ(x("%{l}"), "strong-bad");
  EXPECT_EQ(x("%{l-}"), "strong.bad");
  EXPECT_EQ(x("%{lr}"), "strong-bad");
  EXPECT_EQ(x("%{lr-}"), "bad.strong");
  EXPECT_EQ(x("%{l1r-}"), "strong");
  EXPECT_EQ(x("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(x("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(x("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
  auto v6 = rfc_context("2001:db8::cb01");
  EXPECT_EQ(*expand("%{ir}.%{v}._spf.%{d2}", v6, MacroUse::domain),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(SpfMacro, ExplanationOnlyLettersAndBadSyntaxAreRejected) {
  EXPECT_FALSE(check_macro_string("%{c}", MacroUse::domain));
  EXPECT_TRUE(check_macro_string("%{c} %{r} %{t}", MacroUse::explanation));
  EXPECT_FALSE(check_macro_string("%{d0}", MacroUse::domain));
  EXPECT_FALSE(check_macro_string("%{x}", MacroUse::domain));
  EXPECT_FALSE(check_macro_string("%{d", MacroUse::domain));
  EXPECT_FALSE(check_macro_string("50%", MacroUse::domain));
  EXPECT_FALSE(check_domain_spec("museum"));
  EXPECT_TRUE(check_domain_spec("%{d}"));
}

TEST(SpfMacro, ExpansionIsCutTo253Octets) {
  auto ctx = rfc_context();
  ctx.local_part = std::string(200, 'a') + "." + std::string(60, 'b');
  auto out = expand("%{l}.example.com", ctx, MacroUse::domain);
  ASSERT_TRUE(out);
  EXPECT_LE(out->size(), 253u);
  EXPECT_EQ(*out, std::string(60, 'b') + ".example.com");
}

TEST(SpfRecord, ParsesEveryMechanismAndModifier) {
  auto r = parse_record("v=spf1 +a -mx:mx.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
                        "exists:%{i}.bl.example.com include:_spf.example.net redirect=_r.example.com "
                        "exp=_exp.example.com unknown-mod=x -all");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->mechanisms.size(), 8u);
  EXPECT_EQ(r->mechanisms[1].qualifier, Qualifier::fail);
  EXPECT_EQ(r->mechanisms[1].cidr4, 24u);
  EXPECT_EQ(r->mechanisms[1].cidr6, 64u);
  EXPECT_EQ(r->mechanisms[1].domain_spec, "mx.example.com");
  EXPECT_EQ(r->mechanisms[3].cidr4, 24u);
  EXPECT_EQ(*r->redirect, "_r.example.com");
  EXPECT_EQ(*r->exp, "_exp.example.com");
}

TEST(SpfRecord, SyntaxErrorsNameTheTerm) {
  EXPECT_EQ(parse_record("v=spf1 ip4:192.0.2.1/33 -all").error().message,
            "invalid prefix length in \"ip4:192.0.2.1/33\"");
  EXPECT_FALSE(parse_record("v=spf1 redirect=a.example redirect=b.example"));
  EXPECT_FALSE(parse_record("v=spf1 foo:bar"));
  EXPECT_FALSE(parse_record("v=spf1 all:x"));
  EXPECT_FALSE(is_spf_record("v=spf10 -all"));
}

// A resolver that answers later, as libunbound does, from a queue the test drains.
class DeferredResolver : public dns::Resolver {
 public:
  explicit DeferredResolver(dns::ZoneResolver& zone) : zone_(zone) {}
  void resolve(dns::Question q, Callback done) override {
    pending_.push_back([this, q = std::move(q), done = std::move(done)]() mutable { done(zone_.lookup(q)); });
  }
  int drain() {
    int n = 0;
    while (!pending_.empty()) {
      auto next = std::move(pending_.front());
      pending_.pop_front();
      next();
      ++n;
    }
    return n;
  }

 private:
  dns::ZoneResolver& zone_;
  std::deque<std::move_only_function<void()>> pending_;
};

dns::ZoneResolver chain_zone() {
  dns::ZoneResolver z;
  z.add_txt("example.com", "v=spf1 include:_a.example.com -all");
  z.add_txt("_a.example.com", "v=spf1 include:_b.example.com ~all");
  z.add_txt("_b.example.com", "v=spf1 mx a:relay.example.com -all");
  z.add_mx("_b.example.com", 10, "mx.example.com");
  z.add_a("mx.example.com", "192.0.2.25");
  z.add_a("relay.example.com", "192.0.2.26");
  return z;
}

TEST(SpfCheckHost, CompletesThroughAnAsynchronousResolver) {
  auto zone = chain_zone();
  DeferredResolver deferred(zone);
  std::optional<SpfResult> got;
  check_host(deferred, mailfrom_request(*dns::IpAddress::parse("192.0.2.26"), "a@example.com", "h.example.com"),
             {}, [&](SpfResult r) { got = std::move(r); });
  EXPECT_FALSE(got) << "nothing can be known before DNS answers";
  EXPECT_EQ(deferred.drain(), 6);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->verdict, Verdict::pass);
  EXPECT_EQ(got->mechanism, "include:_a.example.com");
  EXPECT_EQ(got->dns_lookups, 4);
}

TEST(SpfCheckHost, FailCarriesDefaultExplanationAndHeader) {
  auto zone = chain_zone();
  Options opt;
  opt.receiver = "mx.mailmoat.test";
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("198.51.100.7"), "a@example.com", "h.example.com"), opt);
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(r.explanation, "SPF fail: 198.51.100.7 is not authorized to send for example.com");
  std::string field = received_spf_field(r, "mx.mailmoat.test");
  EXPECT_EQ(field,
            "Received-SPF: fail (mx.mailmoat.test: domain of a@example.com does not\r\n"
            "\tdesignate 198.51.100.7 as permitted sender) client-ip=198.51.100.7;\r\n"
            "\tenvelope-from=\"a@example.com\"; helo=h.example.com; receiver=mx.mailmoat.test;\r\n"
            "\tmechanism=-all; identity=mailfrom;");
  for (std::size_t start = 0, end; (end = field.find("\r\n", start)) != std::string::npos; start = end + 2)
    EXPECT_LE(end - start, 78u);
}

TEST(SpfCheckHost, EmptyMailFromChecksHeloIdentity) {
  dns::ZoneResolver zone;
  zone.add_txt("h.example.com", "v=spf1 ip4:192.0.2.1 -all");
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "", "h.example.com"));
  EXPECT_EQ(r.verdict, Verdict::pass);
  EXPECT_EQ(r.request.identity, Identity::helo);
  EXPECT_EQ(r.request.sender, "postmaster@h.example.com");
}

TEST(SpfCheckHost, IncludeLoopStopsAtTheLookupLimit) {
  dns::ZoneResolver zone;
  zone.add_txt("loop.example.com", "v=spf1 include:loop.example.com -all");
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "a@loop.example.com", "h"));
  EXPECT_EQ(r.verdict, Verdict::permerror);
  EXPECT_EQ(r.problem, "more than 10 DNS-querying terms");
  EXPECT_LE(zone.queries(), 12u);
}

TEST(SpfCheckHost, HugeRecordOfManyVoidLookupsIsBounded) {
  dns::ZoneResolver zone;
  std::string rec = "v=spf1";
  for (int i = 0; i < 2000; ++i) rec += " a:n" + std::to_string(i) + ".example.com";
  zone.add_txt("big.example.com", rec);
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "a@big.example.com", "h"));
  EXPECT_EQ(r.verdict, Verdict::permerror);
  EXPECT_EQ(r.void_lookups, 3);
  EXPECT_EQ(zone.queries(), 4u);
}

TEST(SpfCheckHost, RedirectLoopStopsAtTheLookupLimit) {
  dns::ZoneResolver zone;
  zone.add_txt("a.example.com", "v=spf1 redirect=b.example.com");
  zone.add_txt("b.example.com", "v=spf1 redirect=a.example.com");
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "x@a.example.com", "h"));
  EXPECT_EQ(r.verdict, Verdict::permerror);
  EXPECT_EQ(r.dns_lookups, 11);
}

TEST(SpfCheckHost, MacroBombExpandsToOneBoundedName) {
  // 3,000 copies of %{s} in one exists: term expand to about 60 KB, which is
  // cut to the rightmost 253 octets before the single A query.
  dns::ZoneResolver zone;
  std::string spec;
  for (int i = 0; i < 3000; ++i) spec += "%{s}.";
  std::vector<std::string> strings;
  std::string rec = "v=spf1 exists:" + spec + "bl.example.com -all";
  for (std::size_t i = 0; i < rec.size(); i += 255) strings.push_back(rec.substr(i, 255));
  zone.add_txt("bomb.example.com", strings);
  auto r = check_host(zone, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "someone@bomb.example.com", "h"));
  EXPECT_EQ(r.verdict, Verdict::fail);
  EXPECT_EQ(zone.queries(), 2u);
  EXPECT_EQ(r.void_lookups, 1);
}

TEST(SpfCheckHost, AnswersOfTheWrongShapeMatchNothing) {
  // A resolver that answers an A query with text that is no address.
  class Garbage : public dns::Resolver {
   public:
    void resolve(dns::Question q, Callback done) override {
      dns::Answer a;
      a.status = dns::Status::ok;
      if (q.type == dns::RecordType::txt) a.txt = {"v=spf1 a:x.example.com mx -all"};
      else if (q.type == dns::RecordType::mx) a.mx = {{10, ""}, {20, std::string(300, 'm')}};
      else a.addresses = {"not-an-address", "999.1.1.1", ""};
      done(std::move(a));
    }
  } garbage;
  std::optional<SpfResult> got;
  check_host(garbage, mailfrom_request(*dns::IpAddress::parse("192.0.2.1"), "x@example.com", "h"), {},
             [&](SpfResult r) { got = std::move(r); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->verdict, Verdict::fail);
}

}  // namespace
}  // namespace mailmoat::auth::spf
