// ARC behaviour a user would check: sealing round trips (RSA and Ed25519),
// a chain of several hops, oldest-pass after a modification, the 50-set
// limit, cv=fail handling, and the Stalwart mail-auth samples.
#include <gtest/gtest.h>

#include <functional>

#include "auth/arc/sealer.h"
#include "auth/arc/verifier.h"
#include "auth/dkim/signer.h"
#include "dkim/fake_resolver.h"
#include "mail/message.h"
#include "util/strings.h"

namespace mailmoat::auth::arc {
namespace {

const std::string kMessage =
    "From: Joe <joe@example.com>\r\nTo: list@lists.example.org\r\nSubject: Hello\r\n"
    "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHi there.\r\n";

const dkim::PrivateKey& rsa_key() {
  static dkim::PrivateKey k = *dkim::generate_private_key(dkim::KeyType::rsa, 2048);
  return k;
}
const dkim::PrivateKey& ed_key() {
  static dkim::PrivateKey k = *dkim::generate_private_key(dkim::KeyType::ed25519, 0);
  return k;
}

testing::FakeResolver keys() {
  testing::FakeResolver dns;
  dns.add_txt("rsa._domainkey.hop.example", dkim::key_record_for(rsa_key()));
  dns.add_txt("ed._domainkey.hop.example", dkim::key_record_for(ed_key()));
  return dns;
}

ChainResult check(const std::string& text) {
  auto m = mail::Message::parse(text);
  EXPECT_TRUE(m) << m.error().message;
  auto dns = keys();
  ChainResult out;
  verify_chain(*m, dns, [&](ChainResult r) { out = std::move(r); });
  return out;
}

// One hop: validate the incoming chain, maybe modify the message (as a list
// adding a footer would), then seal with the cv found on arrival.
std::string hop(std::string text, const dkim::PrivateKey& key, const char* selector, std::int64_t t,
                std::function<void(std::string&)> modify = nullptr) {
  ChainValidation cv = check(text).cv;
  if (modify) modify(text);
  auto m = mail::Message::parse(text);
  auto sealer = SealerBuilder("hop.example", selector, key).build();
  EXPECT_TRUE(sealer);
  auto set = sealer->seal(*m, "hop.example; arc=" + std::string(cv_name(cv)) + "; spf=pass smtp.mailfrom=example.com", cv, t);
  EXPECT_TRUE(set && set->has_value());
  return (*set)->fields() + text;
}

TEST(ArcChain, NoArcHeadersIsNone) { EXPECT_EQ(check(kMessage).cv, ChainValidation::none); }

TEST(ArcChain, RsaAndEd25519SealsValidateAcrossHops) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  auto one = check(m);
  EXPECT_EQ(one.cv, ChainValidation::pass) << one.reason;
  m = hop(m, ed_key(), "ed", 2000);
  m = hop(m, rsa_key(), "rsa", 3000);
  auto three = check(m);
  EXPECT_EQ(three.cv, ChainValidation::pass) << three.reason;
  ASSERT_EQ(three.instances.size(), 3u);
  EXPECT_EQ(three.instances[1].seal_domain, "hop.example");
  EXPECT_EQ(three.instances[1].seal_selector, "ed");
  EXPECT_EQ(three.oldest_pass, 0);
  EXPECT_NE(three.instances[2].aar.find("arc=pass"), std::string::npos);
}

TEST(ArcChain, ModificationBetweenHopsSetsOldestPass) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  m = hop(m, ed_key(), "ed", 2000, [](std::string& s) { s += "-- footer added by the list\r\n"; });
  auto r = check(m);
  EXPECT_EQ(r.cv, ChainValidation::pass) << r.reason;
  EXPECT_EQ(r.oldest_pass, 2);
  EXPECT_EQ(r.instances[0].ams_result, dkim::Result::fail);
  EXPECT_EQ(r.instances[0].ams_reason, "body hash did not verify");
}

TEST(ArcChain, ModifyingAfterTheLastSealFails) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  m.replace(m.find("Subject: Hello"), 14, "Subject: Bye!!");
  auto r = check(m);
  EXPECT_EQ(r.cv, ChainValidation::fail);
  EXPECT_NE(r.reason.find("ARC-Message-Signature i=1"), std::string::npos) << r.reason;
}

TEST(ArcChain, FailedChainIsSealedOnceWithCvFailThenNoMore) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  m.replace(m.find("Subject: Hello"), 14, "Subject: Bye!!");
  m = hop(m, ed_key(), "ed", 2000);  // validates as fail, seals with cv=fail
  ASSERT_NE(m.find("cv=fail"), std::string::npos);
  auto r = check(m);
  EXPECT_EQ(r.cv, ChainValidation::fail);
  EXPECT_EQ(r.reason, "the newest ARC-Seal says cv=fail");
  auto msg = mail::Message::parse(m);
  auto set = SealerBuilder("hop.example", "rsa", rsa_key()).build()->seal(*msg, "hop.example; arc=fail", ChainValidation::fail, 3000);
  ASSERT_TRUE(set);
  EXPECT_FALSE(set->has_value());
}

TEST(ArcChain, FiftySetsAreTheLimit) {
  std::string m = kMessage;
  for (int i = 0; i < 50; ++i) m = hop(m, ed_key(), "ed", 1000 + i);
  EXPECT_EQ(check(m).cv, ChainValidation::pass);
  auto msg = mail::Message::parse(m);
  auto set = SealerBuilder("hop.example", "ed", ed_key()).build()->seal(*msg, "hop.example; arc=pass", ChainValidation::pass, 9999);
  ASSERT_TRUE(set);
  EXPECT_FALSE(set->has_value()) << "a 51st set must not be added";
  std::string forged = "ARC-Seal: i=51; a=rsa-sha256; b=AAAA; cv=pass; d=x.example; s=s\r\n" + m;
  auto r = check(forged);
  EXPECT_EQ(r.cv, ChainValidation::fail);
  EXPECT_NE(r.reason.find("i=51"), std::string::npos) << r.reason;
}

TEST(ArcChain, Rsa1024IsFineSha1IsNot) {
  auto k = dkim::generate_private_key(dkim::KeyType::rsa, 1024);
  auto m = mail::Message::parse(kMessage);
  auto set = SealerBuilder("small.example", "s", *k).build()->seal(*m, "small.example; none", ChainValidation::none, 5);
  std::string text = (*set)->fields() + kMessage;
  auto parsed = mail::Message::parse(text);
  testing::FakeResolver dns;
  dns.add_txt("s._domainkey.small.example", dkim::key_record_for(*k));
  ChainResult r;
  verify_chain(*parsed, dns, [&](ChainResult x) { r = std::move(x); });
  EXPECT_EQ(r.cv, ChainValidation::pass) << r.reason;
  std::string sha1 = text;
  sha1.replace(sha1.find("a=rsa-sha256"), 12, "a=rsa-sha1");
  auto p2 = mail::Message::parse(sha1);
  verify_chain(*p2, dns, [&](ChainResult x) { r = std::move(x); });
  EXPECT_EQ(r.cv, ChainValidation::fail);
  EXPECT_NE(r.reason.find("RFC 8301"), std::string::npos) << r.reason;
}

TEST(ArcChain, DnsTimeoutFailsAsTemporary) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  auto msg = mail::Message::parse(m);
  testing::FakeResolver dns;
  dns.add_status("rsa._domainkey.hop.example", dns::Status::timeout);
  ChainResult r;
  verify_chain(*msg, dns, [&](ChainResult x) { r = std::move(x); });
  EXPECT_EQ(r.cv, ChainValidation::fail);
  EXPECT_TRUE(r.temporary);
}

TEST(ArcChain, TrustedSealerIsTheNewestTrustedSetOfAPassingChain) {
  std::string m = hop(kMessage, rsa_key(), "rsa", 1000);
  m = hop(m, ed_key(), "ed", 2000);
  auto r = check(m);
  ASSERT_EQ(r.cv, ChainValidation::pass);
  const ArcInstance* t = trusted_sealer(r, {"other.example", "HOP.example"});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->instance, 2);
  EXPECT_NE(t->aar.find("spf=pass"), std::string::npos);
  EXPECT_EQ(trusted_sealer(r, {"other.example"}), nullptr);
  r.cv = ChainValidation::fail;
  EXPECT_EQ(trusted_sealer(r, {"hop.example"}), nullptr);
}

TEST(ArcResultsFor, MergesTheAuthservIdsResults) {
  std::string text =
      "Authentication-Results: mx.example; spf=pass smtp.mailfrom=a.example\r\n"
      "Authentication-Results: other.example; dkim=fail\r\n"
      "Authentication-Results: mx.example 1; dkim=pass header.d=a.example\r\nFrom: a@a.example\r\n\r\n";
  auto m = mail::Message::parse(text);
  EXPECT_EQ(*results_for(*m, "mx.example"), "mx.example; spf=pass smtp.mailfrom=a.example;\r\n dkim=pass header.d=a.example");
  EXPECT_FALSE(results_for(*m, "nobody.example"));
}

// Stalwart mail-auth samples: DNS lines, an empty line, the message (LF).
class MailAuthArc : public ::testing::TestWithParam<std::string> {};

TEST_P(MailAuthArc, ChainPasses) {
  std::string text = testing::read_file(std::string(MAILMOAT_SHARED_DIR) + "/conformance/arc/mail-auth/" + GetParam());
  ASSERT_FALSE(text.empty());
  std::size_t split = text.find("\n\n");
  testing::FakeResolver dns;
  std::string lines = text.substr(0, split);
  for (auto line : util::split(lines, '\n')) {
    std::size_t sp = line.find(' ');
    dns.add_txt(std::string(line.substr(0, sp)), std::string(line.substr(sp + 1)));
  }
  std::string msg_text = mail::normalize_line_endings(text.substr(split + 2));
  auto m = mail::Message::parse(msg_text);
  ASSERT_TRUE(m) << m.error().message;
  ChainResult r;
  verify_chain(*m, dns, [&](ChainResult x) { r = std::move(x); });
  EXPECT_EQ(r.cv, ChainValidation::pass) << r.reason;
}

INSTANTIATE_TEST_SUITE_P(Arc, MailAuthArc, ::testing::Values("001.txt", "002.txt"),
                         [](const auto& info) { return "mail_auth_" + info.param.substr(0, 3); });

}  // namespace
}  // namespace mailmoat::auth::arc
