// Authentication-Results: writer folding, parser on RFC 8601 Appendix B
// examples, removal of forged fields with our authserv-id, method entries.
#include <gtest/gtest.h>

#include "auth/authres/authres.h"
#include "auth/authres/methods.h"

namespace mailmoat::auth::authres {
namespace {

void expect_lines_fit(const std::string& field) {
  std::size_t start = 0;
  for (;;) {
    std::size_t end = field.find("\r\n", start);
    std::size_t len = (end == std::string::npos ? field.size() : end) - start;
    EXPECT_LE(len, 78u) << field.substr(start, len);
    if (end == std::string::npos) break;
    start = end + 2;
  }
}

TEST(AuthresWriter, OneMethodPerLineFoldedAt78) {
  AuthenticationResults ar{"mx.mailmoat.test", std::nullopt, {}};
  ar.results.push_back({"spf", std::nullopt, "pass", "", "sender IP is 192.0.2.1", {{"smtp", "mailfrom", "bounce@example.com"}}});
  ar.results.push_back({"dkim", std::nullopt, "pass", "", "", {{"header", "d", "example.com"}, {"header", "s", "sel1"}, {"header", "b", "AbCdEfGh"}}});
  ar.results.push_back({"dmarc", std::nullopt, "pass", "", "p=reject dis=none", {{"header", "from", "example.com"}}});
  std::string f = write(ar);
  EXPECT_EQ(f,
            "Authentication-Results: mx.mailmoat.test;\r\n"
            "\tspf=pass (sender IP is 192.0.2.1) smtp.mailfrom=bounce@example.com;\r\n"
            "\tdkim=pass header.d=example.com header.s=sel1 header.b=AbCdEfGh;\r\n"
            "\tdmarc=pass (p=reject dis=none) header.from=example.com");
  expect_lines_fit(f);
}

TEST(AuthresWriter, LongCommentsFoldBetweenWordsAndOddValuesAreQuoted) {
  AuthenticationResults ar{"mx.mailmoat.test", std::nullopt, {}};
  ar.results.push_back({"spf", std::nullopt, "permerror", "", std::string(30, 'x') + " " + std::string(40, 'y') + " (nested)",
                        {{"smtp", "mailfrom", "we ird\"name@example.com"}}});
  std::string f = write(ar);
  expect_lines_fit(f);
  auto back = parse(f.substr(f.find(':') + 1));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->results[0].properties[0].value, "we ird\"name@example.com");
  EXPECT_EQ(back->results[0].comment, std::string(30, 'x') + " " + std::string(40, 'y') + " (nested)");
}

TEST(AuthresWriter, NoResultsIsNone) {
  EXPECT_EQ(write(AuthenticationResults{"mx.example.org", 1u, {}}), "Authentication-Results: mx.example.org 1; none");
}

TEST(AuthresParser, Rfc8601AppendixExamples) {
  auto none = parse(" example.org 1; none");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->authserv_id, "example.org");
  EXPECT_EQ(none->version, 1u);
  EXPECT_TRUE(none->results.empty());

  auto two = parse(" example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
                   "          spf=pass smtp.mailfrom=example.net");
  ASSERT_TRUE(two) << two.error().message;
  ASSERT_EQ(two->results.size(), 2u);
  EXPECT_EQ(two->results[0].method, "auth");
  EXPECT_EQ(two->results[0].comment, "cram-md5");
  EXPECT_EQ(two->results[0].property("smtp", "auth")->value, "sender@example.net");
  EXPECT_EQ(two->results[1].property("smtp", "mailfrom")->value, "example.net");

  auto sigs = parse(" example.com;\r\n      dkim=pass (good signature) header.d=mail-router.example.net;\r\n"
                    "      dkim=fail (bad signature) header.d=newyork.example.com");
  ASSERT_TRUE(sigs);
  EXPECT_EQ(sigs->results[1].result, "fail");
  EXPECT_EQ(sigs->results[1].comment, "bad signature");
}

TEST(AuthresParser, CommentsAnywhere) {
  // RFC 8601 Appendix B.7's deliberately awkward field.
  auto ar = parse(" foo.example.net (foobar) 1 (baz);\r\n    dkim (Because I like it) / 1 (One yay) = (wait for it) fail\r\n"
                  "      policy (A dot can go here) . (like that) expired\r\n"
                  "      (this surprised me) = (as I wasn't expecting it) 1362471462");
  ASSERT_TRUE(ar) << ar.error().message;
  EXPECT_EQ(ar->authserv_id, "foo.example.net");
  EXPECT_EQ(ar->version, 1u);
  ASSERT_EQ(ar->results.size(), 1u);
  EXPECT_EQ(ar->results[0].method, "dkim");
  EXPECT_EQ(ar->results[0].version, 1u);
  EXPECT_EQ(ar->results[0].result, "fail");
  ASSERT_NE(ar->results[0].property("policy", "expired"), nullptr);
  EXPECT_EQ(ar->results[0].property("policy", "expired")->value, "1362471462");
}

TEST(AuthresParser, RejectsGarbageWithAReason) {
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("example.com"));
  EXPECT_FALSE(parse("example.com; spf"));
  EXPECT_FALSE(parse("example.com; spf=pass smtp"));
  EXPECT_FALSE(parse("example.com; spf=pass (unterminated"));
  auto e = parse("example.com; =pass");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("expected a method"), std::string::npos);
}

TEST(AuthresParser, ArcAuthenticationResultsCarryTheInstance) {
  auto aar = parse_arc(" i=2; lists.example.org;\r\n\tspf=pass smtp.mailfrom=example.com;\r\n\tdkim=pass header.d=example.com");
  ASSERT_TRUE(aar) << aar.error().message;
  EXPECT_EQ(aar->instance, 2u);
  EXPECT_EQ(aar->results.authserv_id, "lists.example.org");
  EXPECT_EQ(aar->results.results.size(), 2u);
  EXPECT_FALSE(parse_arc(" i=0; a.example; none"));
  EXPECT_FALSE(parse_arc(" i=51; a.example; none"));
  EXPECT_FALSE(parse_arc(" a.example; spf=pass"));
}

TEST(AuthresStrip, RemovesOnlyFieldsWithOurAuthservId) {
  std::string header =
      "Received: from a by b\r\n"
      "Authentication-Results: MX.Mailmoat.Test; spf=pass\r\n"
      "\tsmtp.mailfrom=forged@example.com\r\n"
      "authentication-results: other.example.net; dkim=pass header.d=x.example\r\n"
      "Authentication-Results: mx.mailmoat.test (forged) ; garbage that does not parse\r\n"
      "Subject: hi\r\n";
  auto s = remove_own_results(header, "mx.mailmoat.test");
  EXPECT_EQ(s.removed, 2);
  EXPECT_EQ(s.header,
            "Received: from a by b\r\n"
            "authentication-results: other.example.net; dkim=pass header.d=x.example\r\n"
            "Subject: hi\r\n");
}

TEST(AuthresMethods, SpfDmarcIprevAndCompauthEntries) {
  dns::ZoneResolver z;
  z.add_txt("example.com", "v=spf1 ip4:192.0.2.1 -all");
  z.add_txt("_dmarc.example.com", "v=DMARC1; p=reject");
  z.add_ptr("1.2.0.192.in-addr.arpa", "mail.example.com");
  z.add_a("mail.example.com", "192.0.2.1");
  auto ip = *dns::IpAddress::parse("192.0.2.1");
  auto spf = spf::check_host(z, spf::mailfrom_request(ip, "bounce@example.com", "mail.example.com"));
  dmarc::Input in;
  in.from_domain = "example.com";
  in.spf = {"example.com", dmarc::AuthOutcome::pass};
  auto dm = dmarc::evaluate(z, in);
  auto ipr = iprev::check(z, ip);
  AuthenticationResults ar{"mx.mailmoat.test", std::nullopt,
                           {spf_entry(spf), dmarc_entry(dm, "none"), compauth_entry(dm), iprev_entry(ipr)}};
  std::string f = write(ar);
  EXPECT_EQ(f,
            "Authentication-Results: mx.mailmoat.test;\r\n"
            "\tspf=pass (sender IP is 192.0.2.1) smtp.mailfrom=bounce@example.com;\r\n"
            "\tdmarc=pass (p=reject dis=none) action=none header.from=example.com\r\n"
            "\tpolicy.dmarc=reject;\r\n"
            "\tcompauth=pass reason=\"100\";\r\n"
            "\tiprev=pass (mail.example.com) policy.iprev=192.0.2.1");
  auto back = parse(f.substr(f.find(':') + 1));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->results.size(), 4u);
  EXPECT_EQ(back->results[1].property("", "action")->value, "none");
  EXPECT_EQ(back->results[2].reason, "100");
}

}  // namespace
}  // namespace mailmoat::auth::authres
