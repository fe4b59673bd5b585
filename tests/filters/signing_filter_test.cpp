// The signing filter as the gateway runs it: which mail gets DKIM-signed and
// by which keys, that queued edits are applied before signing (so the
// signatures cover the final bytes), and ARC sealing of inbound mail. Every
// signature is checked by mailmoat's own verifier against a fake resolver.
#include "filters/signing/signing_filter.h"

#include <gtest/gtest.h>

#include "auth/arc/verifier.h"
#include "auth/dkim/verifier.h"
#include "fake_resolver.h"
#include "pipeline/chain.h"

namespace mailmoat::filters {
namespace {

namespace dkim = auth::dkim;
namespace arc = auth::arc;

constexpr std::int64_t kNow = 1764300000;
const std::string kMessage =
    "Received: from client by gw; Fri, 28 Nov 2025 12:00:00 +0000\r\n"
    "From: Joe <joe@example.com>\r\nTo: Sue <sue@example.org>\r\nSubject: Lunch\r\n"
    "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nAre you hungry?\r\n";

struct Keys {
  dkim::PrivateKey rsa = *dkim::generate_private_key(dkim::KeyType::rsa, 2048);
  dkim::PrivateKey ed = *dkim::generate_private_key(dkim::KeyType::ed25519, 0);
  dkim::PrivateKey arc = *dkim::generate_private_key(dkim::KeyType::rsa, 2048);
};
const Keys& keys() {
  static Keys k;
  return k;
}

dkim::Signer signer(const std::string& domain, const std::string& selector, const dkim::PrivateKey& key) {
  return *dkim::SignerBuilder(domain, selector, key).build();
}

struct Fixture {
  testing::FakeResolver dns;
  SigningConfig config;
  Fixture() {
    dns.add_txt("rsa._domainkey.example.com", dkim::key_record_for(keys().rsa));
    dns.add_txt("ed._domainkey.example.com", dkim::key_record_for(keys().ed));
    dns.add_txt("arc1._domainkey.gw.example", dkim::key_record_for(keys().arc));
    config.signers.push_back(signer("example.com", "rsa", keys().rsa));
    config.signers.push_back(signer("example.com", "ed", keys().ed));
    config.authserv_id = "mx.gw.example";
  }
  pipeline::MessageContext run(const std::string& role, std::string message, std::string sender = "joe@example.com",
                               pipeline::Edits edits = {}) {
    SigningFilter filter(config, [] { return kNow; });
    pipeline::MessageContext ctx;
    ctx.connection.role = role;
    ctx.envelope.sender = std::move(sender);
    ctx.message = std::move(message);
    ctx.edits = std::move(edits);
    bool called = false;
    filter.on_message(ctx, [&](pipeline::Verdict v) {
      called = true;
      EXPECT_EQ(v.disposition, pipeline::Disposition::accept);
    });
    EXPECT_TRUE(called);
    return ctx;
  }
  std::vector<dkim::SignatureResult> verify(const std::string& text) {
    auto m = mail::Message::parse(text);
    EXPECT_TRUE(m);
    std::vector<dkim::SignatureResult> out;
    dkim::VerifyOptions o;
    o.now = kNow;
    dkim::verify(*m, dns, o, [&](std::vector<dkim::SignatureResult> r) { out = std::move(r); });
    return out;
  }
  arc::ChainResult verify_arc(const std::string& text) {
    auto m = mail::Message::parse(text);
    EXPECT_TRUE(m);
    arc::ChainResult out;
    arc::verify_chain(*m, dns, [&](arc::ChainResult r) { out = std::move(r); });
    return out;
  }
};

TEST(SigningFilter, RelayMailIsDualSignedWithEveryActiveKeyOfTheFromDomain) {
  for (const char* role : {"relay", "submission"}) {
    Fixture f;
    auto ctx = f.run(role, kMessage);
    auto r = f.verify(ctx.message);
    ASSERT_EQ(r.size(), 2u) << role;
    for (const auto& s : r) {
      EXPECT_EQ(s.result, dkim::Result::pass) << s.selector << ": " << s.reason;
      EXPECT_EQ(s.domain, "example.com");
    }
    EXPECT_EQ(r[0].algorithm == "rsa-sha256" ? r[1].algorithm : r[0].algorithm, "ed25519-sha256");
  }
}

TEST(SigningFilter, QueuedEditsAreAppliedFirstSoTheSignatureCoversThem) {
  Fixture f;
  pipeline::Edits edits;
  edits.headers.push_back({pipeline::HeaderEdit::Op::replace, "Subject", "[EXTERNAL] Lunch"});
  edits.body = "Rewritten body\r\n";
  edits.add_recipients.push_back("archive@example.com");
  auto ctx = f.run("relay", kMessage, "joe@example.com", edits);
  EXPECT_TRUE(ctx.edits.headers.empty());
  EXPECT_FALSE(ctx.edits.body);
  EXPECT_EQ(ctx.edits.add_recipients.size(), 1u);  // recipients are not part of the bytes
  EXPECT_NE(ctx.message.find("Subject: [EXTERNAL] Lunch\r\n"), std::string::npos);
  EXPECT_TRUE(ctx.message.ends_with("\r\n\r\nRewritten body\r\n"));
  // Applying the (now empty) edits after the chain, as the server does, changes nothing.
  std::string after = ctx.message;
  pipeline::apply_edits(after, ctx.edits);
  auto r = f.verify(after);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].result, dkim::Result::pass) << r[0].reason;
  EXPECT_EQ(r[1].result, dkim::Result::pass) << r[1].reason;
}

TEST(SigningFilter, NextKeyIsNotUsedAndOtherDomainsAreNotSigned) {
  Fixture f;
  // Only the active key is given to the filter (the app drops next keys).
  f.config.signers = {signer("example.com", "rsa", keys().rsa)};
  auto ctx = f.run("relay", kMessage);
  EXPECT_EQ(f.verify(ctx.message).size(), 1u);
  std::string other = kMessage;
  other.replace(other.find("joe@example.com"), 15, "ann@other.test");
  auto unsigned_ctx = f.run("relay", other, "ann@other.test");
  EXPECT_EQ(unsigned_ctx.message, other);
}

TEST(SigningFilter, EnvelopeSenderDomainSignsWhenFromHasNoKeys) {
  Fixture f;
  std::string other = kMessage;
  other.replace(other.find("joe@example.com"), 15, "list@lists.test");
  auto ctx = f.run("relay", other, "bounces@example.com");
  auto r = f.verify(ctx.message);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].domain, "example.com");
  EXPECT_EQ(r[0].result, dkim::Result::pass) << r[0].reason;
}

TEST(SigningFilter, InboundMailIsNotDkimSignedWithoutASealer) {
  Fixture f;
  std::string in = "Authentication-Results: mx.gw.example; spf=pass smtp.mailfrom=example.com\r\n" + kMessage;
  auto ctx = f.run("inbound", in);
  EXPECT_EQ(ctx.message, in);
}

TEST(SigningFilter, InboundMailWeModifiedIsArcSealedWithOurResults) {
  Fixture f;
  f.config.sealer = *arc::SealerBuilder("gw.example", "arc1", keys().arc).build();
  std::string in =
      "Authentication-Results: mx.gw.example; spf=pass smtp.mailfrom=example.com;\r\n dkim=none\r\n" + kMessage;
  auto ctx = f.run("inbound", in);
  auto chain = f.verify_arc(ctx.message);
  EXPECT_EQ(chain.cv, arc::ChainValidation::pass) << chain.reason;
  ASSERT_EQ(chain.instances.size(), 1u);
  EXPECT_EQ(chain.instances[0].seal_domain, "gw.example");
  EXPECT_NE(chain.instances[0].aar.find("mx.gw.example"), std::string::npos) << chain.instances[0].aar;
  EXPECT_NE(chain.instances[0].aar.find("spf=pass"), std::string::npos) << chain.instances[0].aar;
  EXPECT_TRUE(f.verify(ctx.message).empty());  // no DKIM-Signature on inbound mail

  // The next hop (another mailmoat) validated our chain and seals i=2 with cv=pass.
  f.config.authserv_id = "mx2.gw.example";
  std::string hop2 = "Authentication-Results: mx2.gw.example; arc=pass\r\n" + ctx.message;
  SigningFilter second(f.config, [] { return kNow; });
  pipeline::MessageContext ctx2;
  ctx2.connection.role = "inbound";
  ctx2.message = hop2;
  ctx2.arc_cv = "pass";
  second.on_message(ctx2, [](pipeline::Verdict) {});
  auto chain2 = f.verify_arc(ctx2.message);
  EXPECT_EQ(chain2.cv, arc::ChainValidation::pass) << chain2.reason;
  EXPECT_EQ(chain2.instances.size(), 2u);
}

TEST(SigningFilter, UnvalidatedIncomingChainOrNoOwnResultsIsNotSealed) {
  Fixture f;
  f.config.sealer = *arc::SealerBuilder("gw.example", "arc1", keys().arc).build();
  std::string in = "Authentication-Results: mx.gw.example; spf=pass smtp.mailfrom=example.com\r\n" + kMessage;
  auto sealed = f.run("inbound", in);
  ASSERT_NE(sealed.message, in);
  // The auth filter recorded no cv (say DNS failed): a second set would vouch blindly.
  std::string again = "Authentication-Results: mx.gw.example; arc=temperror\r\n" + sealed.message;
  auto ctx = f.run("inbound", again);
  EXPECT_EQ(ctx.message, again);
  // No Authentication-Results of ours: we did not touch it, nothing to seal.
  auto untouched = f.run("inbound", kMessage);
  EXPECT_EQ(untouched.message, kMessage);
}

}  // namespace
}  // namespace mailmoat::filters
