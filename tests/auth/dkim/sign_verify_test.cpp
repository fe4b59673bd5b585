// Sign-then-verify behaviour a user would check: pass, the two failure
// reasons, l= and its unsigned remainder, over-signing, the clock, key
// record flags, DNS failures and the per-message signature cap.
#include <gtest/gtest.h>

#include "auth/dkim/signer.h"
#include "auth/dkim/verifier.h"
#include "fake_resolver.h"

namespace mailmoat::auth::dkim {
namespace {

constexpr std::int64_t kNow = 1764300000;
const std::string kMessage =
    "From: Joe <joe@example.com>\r\nTo: Sue <sue@example.org>\r\nSubject: Lunch\r\n"
    "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nAre you hungry?\r\n\r\n";

const PrivateKey& rsa_key() {
  static PrivateKey k = *generate_private_key(KeyType::rsa, 2048);
  return k;
}
const PrivateKey& ed_key() {
  static PrivateKey k = *generate_private_key(KeyType::ed25519, 0);
  return k;
}

struct Fixture {
  testing::FakeResolver dns;
  Fixture() {
    dns.add_txt("rsa._domainkey.example.com", key_record_for(rsa_key()));
    dns.add_txt("ed._domainkey.example.com", key_record_for(ed_key()));
  }
  std::vector<SignatureResult> verify_text(const std::string& text, VerifyOptions o = {}) {
    auto m = mail::Message::parse(text);
    EXPECT_TRUE(m) << m.error().message;
    if (o.now == 0) o.now = kNow;
    std::vector<SignatureResult> out;
    verify(*m, dns, o, [&](std::vector<SignatureResult> r) { out = std::move(r); });
    return out;
  }
};

std::string sign_with(const SignerBuilder& b, const std::string& text, std::int64_t now = kNow) {
  auto signer = b.build();
  EXPECT_TRUE(signer) << signer.error().message;
  auto m = mail::Message::parse(text);
  auto field = signer->sign(*m, now);
  EXPECT_TRUE(field) << field.error().message;
  return *field + text;
}

TEST(DkimSignVerify, RsaAndEd25519BothCanonicalizationsPass) {
  Fixture f;
  for (Canon c : {Canon::simple, Canon::relaxed}) {
    for (auto [sel, key] : {std::pair{"rsa", &rsa_key()}, std::pair{"ed", &ed_key()}}) {
      std::string signed_text = sign_with(SignerBuilder("example.com", sel, *key).canonicalization(c, c), kMessage);
      auto r = f.verify_text(signed_text);
      ASSERT_EQ(r.size(), 1u);
      EXPECT_EQ(r[0].result, Result::pass) << sel << " " << canon_name(c) << ": " << r[0].reason;
      EXPECT_EQ(r[0].domain, "example.com");
      EXPECT_EQ(r[0].algorithm, key->type == KeyType::rsa ? "rsa-sha256" : "ed25519-sha256");
      EXPECT_GE(r[0].header_b.size(), 8u);
    }
  }
}

// Header selection has a small-header path and a map path for headers of
// more than 64 fields: a message signed with a short header still verifies
// after 70 unsigned fields are added below, and an added second Subject
// (over-signed) still breaks it on both paths.
TEST(DkimSignVerify, HeaderSelectionAgreesForShortAndLongHeaders) {
  Fixture f;
  std::string signed_text = sign_with(SignerBuilder("example.com", "rsa", rsa_key()), kMessage);
  EXPECT_EQ(f.verify_text(signed_text)[0].result, Result::pass);
  std::string padded = signed_text;
  std::string pad;
  for (int i = 0; i < 70; ++i) pad += "X-Pad-" + std::to_string(i) + ": filler\r\n";
  padded.insert(padded.find("\r\n\r\n") + 2, pad);
  EXPECT_EQ(f.verify_text(padded)[0].result, Result::pass);
  for (const std::string& text : {signed_text, padded}) {
    std::string forged = text;
    forged.insert(forged.find("\r\n\r\n") + 2, "Subject: Urgent payment\r\n");
    EXPECT_EQ(f.verify_text(forged)[0].result, Result::fail);
  }
}

TEST(DkimSignVerify, DualSignatureEachGetsItsOwnResultAndOneQueryPerKey) {
  Fixture f;
  std::string once = sign_with(SignerBuilder("example.com", "rsa", rsa_key()), kMessage);
  std::string twice = sign_with(SignerBuilder("example.com", "ed", ed_key()), once);
  auto r = f.verify_text(twice);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].selector, "ed");
  EXPECT_EQ(r[1].selector, "rsa");
  EXPECT_EQ(r[0].result, Result::pass);
  EXPECT_EQ(r[1].result, Result::pass);
  EXPECT_EQ(f.dns.queries, 2);
}

TEST(DkimSignVerify, ModifiedBodyAndHeaderFailWithTheirReasons) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "rsa", rsa_key()), kMessage);
  std::string body_changed = s;
  body_changed.replace(body_changed.find("hungry"), 6, "thirst");
  EXPECT_EQ(f.verify_text(body_changed)[0].reason, "body hash did not verify");
  std::string header_changed = s;
  header_changed.replace(header_changed.find("Lunch"), 5, "Dinne");
  auto r = f.verify_text(header_changed);
  EXPECT_EQ(r[0].result, Result::fail);
  EXPECT_EQ(r[0].reason, "signature did not verify");
}

TEST(DkimSignVerify, RelaxedSurvivesWhitespaceChangesSimpleDoesNot) {
  Fixture f;
  auto mangle = [](std::string s) {
    s.replace(s.find("Subject: Lunch"), 14, "Subject:   Lunch");
    s.replace(s.find("Are you"), 7, "Are \t you");
    return s;
  };
  auto relaxed = f.verify_text(mangle(sign_with(SignerBuilder("example.com", "rsa", rsa_key()), kMessage)));
  EXPECT_EQ(relaxed[0].result, Result::pass) << relaxed[0].reason;
  auto simple = f.verify_text(mangle(sign_with(
      SignerBuilder("example.com", "rsa", rsa_key()).canonicalization(Canon::simple, Canon::simple), kMessage)));
  EXPECT_EQ(simple[0].result, Result::fail);
}

TEST(DkimSignVerify, BodyLengthAllowsAppendedTextAndReportsIt) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "ed", ed_key()).body_length(true), kMessage);
  ASSERT_NE(s.find(" l="), std::string::npos);
  auto r = f.verify_text(s + "Appended by a list\r\n");
  EXPECT_EQ(r[0].result, Result::pass) << r[0].reason;
  ASSERT_TRUE(r[0].signed_body_length);
  EXPECT_EQ(r[0].unsigned_body_bytes, std::string("Appended by a list\r\n").size() + 2);  // + the held-back empty line
}

TEST(DkimSignVerify, OversignedFieldsCannotBeAdded) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "rsa", rsa_key()), kMessage);
  std::size_t body = s.find("\r\n\r\n");
  std::string added = s.substr(0, body) + "\r\nSubject: Pay this invoice" + s.substr(body);
  EXPECT_EQ(f.verify_text(added)[0].result, Result::fail);
  std::string reply_to = s.substr(0, body) + "\r\nReply-To: thief@evil.example" + s.substr(body);
  EXPECT_EQ(f.verify_text(reply_to)[0].result, Result::fail);
  // A field neither signed nor over-signed may be added.
  std::string received = "Received: from relay\r\n" + s;
  EXPECT_EQ(f.verify_text(received)[0].result, Result::pass);
}

TEST(DkimSignVerify, ExpiryAndFutureTimestampUseTheInjectedClock) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "rsa", rsa_key()).expire_after(3600), kMessage);
  VerifyOptions later;
  later.now = kNow + 7200;
  auto r = f.verify_text(s, later);
  EXPECT_EQ(r[0].result, Result::permerror);
  EXPECT_EQ(r[0].reason, "signature expired (x=)");
  VerifyOptions before;
  before.now = kNow - 3600;
  EXPECT_EQ(f.verify_text(s, before)[0].reason, "signature timestamp t= is in the future");
  VerifyOptions within;
  within.now = kNow + 60;
  EXPECT_EQ(f.verify_text(s, within)[0].result, Result::pass);
}

TEST(DkimSignVerify, KeyRecordFlagsAndRevocation) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "k", rsa_key()).identity("joe@mail.example.com"), kMessage);
  std::string p = key_record_for(rsa_key());
  f.dns.add_txt("k._domainkey.example.com", p + "; t=y");
  auto r = f.verify_text(s);
  EXPECT_EQ(r[0].result, Result::pass);
  EXPECT_TRUE(r[0].testing);
  Fixture strict;
  strict.dns.add_txt("k._domainkey.example.com", p + "; t=s");
  EXPECT_EQ(strict.verify_text(s)[0].reason, "key record t=s requires the i= domain to equal d=");
  Fixture revoked;
  revoked.dns.add_txt("k._domainkey.example.com", "v=DKIM1; k=rsa; p=");
  EXPECT_EQ(revoked.verify_text(s)[0].reason, "key revoked (empty p=)");
  Fixture wrong_type;
  wrong_type.dns.add_txt("k._domainkey.example.com", key_record_for(ed_key()));
  EXPECT_EQ(wrong_type.verify_text(s)[0].result, Result::permerror);
}

TEST(DkimSignVerify, Pkcs1RsaKeyRecordIsAccepted) {
  // RFC 8017 RSAPublicKey instead of SubjectPublicKeyInfo: strip the SPKI wrapper.
  std::string spki = public_key_bytes(rsa_key());
  std::string pkcs1 = spki.substr(spki.size() - 270);  // 2048-bit: the BIT STRING's content
  ASSERT_EQ(static_cast<unsigned char>(pkcs1[0]), 0x30);
  Fixture f;
  f.dns.add_txt("p1._domainkey.example.com", "v=DKIM1; p=" + base64_encode(pkcs1));
  auto r = f.verify_text(sign_with(SignerBuilder("example.com", "p1", rsa_key()), kMessage));
  EXPECT_EQ(r[0].result, Result::pass) << r[0].reason;
}

TEST(DkimSignVerify, DnsFailuresAreTemperrorMissingKeyIsPermerror) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "gone", rsa_key()), kMessage);
  EXPECT_EQ(f.verify_text(s)[0].result, Result::permerror);
  f.dns.add_status("gone._domainkey.example.com", dns::Status::timeout);
  EXPECT_EQ(f.verify_text(s)[0].result, Result::temperror);
  f.dns.add_status("gone._domainkey.example.com", dns::Status::servfail);
  EXPECT_EQ(f.verify_text(s)[0].result, Result::temperror);
}

TEST(DkimSignVerify, Rsa1024IsAcceptedAndSignerRefusesNoFrom) {
  auto k = generate_private_key(KeyType::rsa, 1024);
  ASSERT_TRUE(k);
  Fixture f;
  f.dns.add_txt("small._domainkey.example.com", key_record_for(*k));
  EXPECT_EQ(f.verify_text(sign_with(SignerBuilder("example.com", "small", *k), kMessage))[0].result, Result::pass);
  auto signer = SignerBuilder("example.com", "rsa", rsa_key()).build();
  std::string nofrom = "To: a@b.example\r\n\r\nhi\r\n";
  auto m = mail::Message::parse(nofrom);
  EXPECT_FALSE(signer->sign(*m, kNow));
  EXPECT_FALSE(SignerBuilder("", "s", rsa_key()).build());
  EXPECT_FALSE(SignerBuilder("example.com", "s", rsa_key()).identity("x@other.example").build());
}

TEST(DkimSignVerify, SignatureCapBoundsWork) {
  Fixture f;
  std::string s = kMessage;
  for (int i = 0; i < 20; ++i) s = sign_with(SignerBuilder("example.com", "ed", ed_key()), s);
  s = "DKIM-Signature: v=1; a=rsa-sha256; garbage\r\n" + s;
  VerifyOptions o;
  o.max_signatures = 5;
  auto r = f.verify_text(s, o);
  ASSERT_EQ(r.size(), 21u);
  EXPECT_EQ(r[0].result, Result::permerror);
  int pass = 0, policy = 0;
  for (const auto& x : r) {
    pass += x.result == Result::pass;
    policy += x.result == Result::policy;
  }
  EXPECT_EQ(pass, 5);
  EXPECT_EQ(policy, 15);
}

TEST(DkimSignVerify, StreamingBodyInChunksGivesTheSameResults) {
  Fixture f;
  std::string s = sign_with(SignerBuilder("example.com", "rsa", rsa_key()).canonicalization(Canon::simple, Canon::simple), kMessage);
  s = sign_with(SignerBuilder("example.com", "ed", ed_key()).body_length(true), s);
  auto whole = f.verify_text(s);
  ASSERT_EQ(whole.size(), 2u);
  std::size_t split = s.find("\r\n\r\n") + 4;
  std::string header_part = s.substr(0, split);
  auto headers = mail::Message::parse(header_part);
  ASSERT_TRUE(headers);
  for (std::size_t chunk : {1u, 2u, 3u, 7u, 1000u}) {
    VerifyOptions o;
    o.now = kNow;
    auto v = Verification::from_headers(*headers, o);
    for (std::size_t i = split; i < s.size(); i += chunk) v.update_body(std::string_view(s).substr(i, chunk));
    v.finish_body();
    for (const auto& q : v.key_queries())
      f.dns.resolve(q, [&](dns::Answer a) { v.add_key_answer(q.name, a); });
    auto r = v.results();
    ASSERT_EQ(r.size(), 2u);
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(r[i].result, Result::pass) << "chunk " << chunk << ": " << r[i].reason;
      EXPECT_EQ(r[i].unsigned_body_bytes, whole[i].unsigned_body_bytes);
    }
  }
  VerifyOptions o;
  o.now = kNow;
  auto unfinished = Verification::from_headers(*headers, o);
  EXPECT_EQ(unfinished.results()[0].result, Result::temperror);
}

TEST(DkimKeygen, RecordIsSplitInto255ByteStringsAndMatchesTheKey) {
  auto g = generate_key(KeyType::rsa, 3072);
  ASSERT_TRUE(g);
  std::string joined;
  for (const auto& s : g->txt_strings) {
    EXPECT_LE(s.size(), 255u);
    joined += s;
  }
  EXPECT_EQ(joined, g->txt_record);
  EXPECT_GT(g->txt_strings.size(), 1u);
  auto priv = load_private_key(g->private_pem);
  ASSERT_TRUE(priv);
  EXPECT_EQ(priv->bits, 3072);
  EXPECT_EQ(key_record_for(*priv), g->txt_record);
  auto ed = generate_key(KeyType::ed25519);
  ASSERT_TRUE(ed);
  EXPECT_NE(ed->txt_record.find("k=ed25519"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::auth::dkim
