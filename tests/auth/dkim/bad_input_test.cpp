// Hostile input from the "Bad input" list: each gets a result with
// a reason, in bounded time, without DNS traffic for what is not verified.
#include <gtest/gtest.h>

#include <chrono>

#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "fake_resolver.h"

namespace mailmoat::auth::dkim {
namespace {

std::vector<SignatureResult> run(const std::string& text, testing::FakeResolver& dns, std::size_t cap = 8) {
  auto m = mail::Message::parse(text);
  EXPECT_TRUE(m) << m.error().message;
  VerifyOptions o;
  o.now = 1764300000;
  o.max_signatures = cap;
  std::vector<SignatureResult> out;
  verify(*m, dns, o, [&](std::vector<SignatureResult> r) { out = std::move(r); });
  return out;
}

const std::string kBody = "From: a@example.com\r\nSubject: x\r\n\r\nbody\r\n";

TEST(DkimBadInput, ThousandsOfSignaturesAreCappedAndCheap) {
  std::string sig =
      "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; "
      "b=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n";
  std::string text;
  for (int i = 0; i < 1900; ++i) text += sig;
  text += kBody;
  testing::FakeResolver dns;
  auto start = std::chrono::steady_clock::now();
  auto r = run(text, dns, 4);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.size(), 1900u);
  EXPECT_EQ(r[4].result, Result::policy);
  EXPECT_EQ(r[4].reason, "not verified: more than 4 signatures");
  EXPECT_EQ(dns.queries, 1);  // one distinct key name among the four verified
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(took).count(), 10);
}

TEST(DkimBadInput, MegabyteHeaderIsHandled) {
  std::string text = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=" + std::string(900000, 'x') +
                     "; bh=AAAA; b=AAAA\r\n" + kBody;
  testing::FakeResolver dns;
  auto r = run(text, dns);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].result, Result::permerror);
  EXPECT_EQ(r[0].reason, "h= does not include From");
}

TEST(DkimBadInput, HugeHeaderListIsLinear) {
  std::string h = "from";
  for (int i = 0; i < 100000; ++i) h += ":from";
  std::string text = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=" + h + "; bh=AAAA; b=AAAA\r\n" + kBody;
  testing::FakeResolver dns;
  dns.add_txt("s._domainkey.example.com", key_record_for(*generate_private_key(KeyType::rsa, 1024)));
  auto start = std::chrono::steady_clock::now();
  auto r = run(text, dns);
  EXPECT_EQ(r[0].result, Result::fail);
  EXPECT_LT(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count(), 10);
}

TEST(DkimBadInput, AbsurdBodyLength) {
  auto key = *generate_private_key(KeyType::ed25519, 0);
  testing::FakeResolver dns;
  dns.add_txt("e._domainkey.example.com", key_record_for(key));
  std::string text = kBody;
  auto m = mail::Message::parse(text);
  std::string field = *SignerBuilder("example.com", "e", key).body_length(true).build()->sign(*m, 1764300000);
  std::string bigger = field;
  bigger.replace(bigger.find(" l=") + 3, 1, "9999999");
  auto r = run(bigger + text, dns);
  EXPECT_EQ(r[0].result, Result::fail);
  std::string absurd = "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; h=from; l=" + std::string(80, '9') +
                       "; bh=AAAA; b=AAAA\r\n" + kBody;
  EXPECT_EQ(run(absurd, dns)[0].reason, "l= value is too large");
}

TEST(DkimBadInput, OddKeySizes) {
  testing::FakeResolver dns;
  auto sign_with = [&](const PrivateKey& k) {
    std::string text = kBody;
    auto m = mail::Message::parse(text);
    dns.add_status("k._domainkey.example.com", dns::Status::nxdomain);
    return *SignerBuilder("example.com", "k", k).build()->sign(*m, 1764300000) + text;
  };
  // A 1500-bit key is unusual but valid.
  auto odd = *generate_private_key(KeyType::rsa, 1500);
  std::string text = sign_with(odd);
  testing::FakeResolver d1;
  d1.add_txt("k._domainkey.example.com", key_record_for(odd));
  EXPECT_EQ(run(text, d1)[0].result, Result::pass);
  // Truncated key data and an Ed25519 key of the wrong length.
  testing::FakeResolver d2;
  std::string rec = key_record_for(odd);
  d2.add_txt("k._domainkey.example.com", rec.substr(0, rec.size() - 40));
  EXPECT_EQ(run(text, d2)[0].result, Result::permerror);
  testing::FakeResolver d3;
  d3.add_txt("k._domainkey.example.com", "v=DKIM1; k=ed25519; p=AAAA");
  EXPECT_EQ(run(text, d3)[0].result, Result::permerror);
}

}  // namespace
}  // namespace mailmoat::auth::dkim
