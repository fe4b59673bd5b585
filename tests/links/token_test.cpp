// Signed link tokens: the documented form, verification with rotated keys,
// tampering detected, and strict parsing of what a client sends back.
#include "links/token.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace mailmoat::links {
namespace {

const std::string kKey1 = "first-key-0123456789abcdef";
const std::string kKey2 = "second-key-0123456789abcdef";

TEST(LinkToken, HasTheDocumentedVersionedForm) {
  auto signer = LinkSigner::create("https://links.example.net", {kKey1});
  ASSERT_TRUE(signer);
  std::string link = signer->wrap({"https://shop.example/a?b=1&c=%20", "Q1", "sue@example.org", ""});
  EXPECT_TRUE(link.starts_with(
      "https://links.example.net/v1/l?u=https%3A%2F%2Fshop.example%2Fa%3Fb%3D1%26c%3D%2520&m=Q1&r=sue%40example.org&s="));
  auto parsed = parse_link(link);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fields.url, "https://shop.example/a?b=1&c=%20");
  EXPECT_EQ(parsed->fields.recipient, "sue@example.org");
  EXPECT_EQ(parsed->tag.size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_TRUE(signer->verify(*parsed));
}

// The tag is the documented HMAC, computed here from its definition in docs/links.md
// (one HMAC over the whole input), so the precomputed per-key state changes nothing.
TEST(LinkToken, TagIsTheDocumentedHmac) {
  auto signer = LinkSigner::create("https://links.example.net", {kKey1});
  ASSERT_TRUE(signer);
  LinkFields f{"https://shop.example/\xC3\xA9?x=1", "Q123", "", ""};
  std::string in = "mailmoat-link-v1";
  for (const std::string* part : {&f.url, &f.message, &f.recipient}) in += "\n" + std::to_string(part->size()) + ":" + *part;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(kKey1.data()), kKey1.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string expected = base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
  std::string link = signer->wrap(f);
  EXPECT_EQ(link.substr(link.find("&s=") + 3), expected);
  // Twice with one signer: the keyed state is copied, never consumed.
  EXPECT_EQ(signer->wrap(f), link);
  // A key longer than SHA-256's block is hashed first (RFC 2104 section 2).
  std::string long_key(100, 'k');
  auto long_signer = LinkSigner::create("https://links.example.net", {long_key});
  ASSERT_TRUE(long_signer);
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(long_key.data()), long_key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(in.data()), in.size());
  crypto_auth_hmacsha256_final(&st, mac);
  std::string long_link = long_signer->wrap(f);
  EXPECT_EQ(long_link.substr(long_link.find("&s=") + 3),
            base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac)));
}

TEST(LinkToken, AnyConfiguredKeyVerifiesButOnlyTheFirstSigns) {
  auto old_signer = LinkSigner::create("https://l.example", {kKey2});
  auto rotated = LinkSigner::create("https://l.example", {kKey1, kKey2});
  auto only_new = LinkSigner::create("https://l.example", {kKey1});
  auto link = parse_link(old_signer->wrap({"http://a.example/", "m", "r@x", ""}));
  EXPECT_TRUE(rotated->verify(*link));
  EXPECT_FALSE(only_new->verify(*link));
  EXPECT_TRUE(only_new->verify(*parse_link(rotated->wrap({"http://a.example/", "m", "r@x", ""}))));
}

TEST(LinkToken, ChangingAnyFieldBreaksTheSignature) {
  auto signer = LinkSigner::create("https://l.example", {kKey1});
  auto link = *parse_link(signer->wrap({"http://a.example/", "m1", "r@x", ""}));
  for (int field = 0; field < 4; ++field) {
    ParsedLink t = link;
    std::string* f[] = {&t.fields.url, &t.fields.message, &t.fields.recipient, &t.tag};
    *f[field] += "x";
    EXPECT_FALSE(signer->verify(t)) << "field " << field;
  }
  // Moving bytes between fields does not keep the signature (length-prefixed MAC input).
  ParsedLink shifted = link;
  shifted.fields.url = "http://a.example/m";
  shifted.fields.message = "1";
  EXPECT_FALSE(signer->verify(shifted));
}

// A message to several recipients carries the policy that rewrote it (p=),
// signed like every other field; links without p= keep the tag they always had.
TEST(LinkToken, PolicyFieldIsSignedAndLinksWithoutItKeepTheirTag) {
  auto signer = LinkSigner::create("https://l.example", {kKey1});
  LinkFields many{"http://a.example/", "m1", "", "finance"};
  std::string link = signer->wrap(many);
  EXPECT_NE(link.find("&r=&p=finance&s="), std::string::npos) << link;
  auto parsed = parse_link(link);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fields.policy, "finance");
  EXPECT_TRUE(signer->verify(*parsed));
  ParsedLink other = *parsed;
  other.fields.policy = "default";
  EXPECT_FALSE(signer->verify(other));
  ParsedLink dropped = *parsed;
  dropped.fields.policy.clear();
  EXPECT_FALSE(signer->verify(dropped));
  EXPECT_FALSE(parse_link(link + "&p=x"));  // given twice

  // Known answer computed outside mailmoat (Python hmac) for the format before p= existed.
  std::string old = signer->wrap({"http://a.example/", "m1", "r@x", ""});
  EXPECT_EQ(old.find("&p="), std::string::npos);
  EXPECT_EQ(old.substr(old.find("&s=") + 3), "H-HIxm5ImxlNuUOSNbGVwebIWH6ZFqG6mWMUoxufK9w");
}

TEST(LinkToken, ParsingIsStrict) {
  EXPECT_FALSE(parse_link("https://l.example/v1/l?u=http%3A%2F%2Fa&s=abc&u=x"));  // repeated
  EXPECT_FALSE(parse_link("https://l.example/v1/l?u=%zz&s=abc"));                 // bad escape
  EXPECT_FALSE(parse_link("https://l.example/v1/l?u=abc%4&s=abc"));               // truncated
  EXPECT_FALSE(parse_link("https://l.example/v1/l?m=1&r=2"));                     // no u, no s
  EXPECT_FALSE(parse_link("https://l.example/v2/l?u=a&s=b"));                     // other version
  EXPECT_FALSE(parse_link("https://l.example/v1/l?u=a&s=b&evil=1"));
  EXPECT_TRUE(parse_link("u=a&m=&r=&s=b"));
}

TEST(LinkToken, RecognisesItsOwnLinks) {
  auto signer = LinkSigner::create("https://l.example/", {kKey1});
  EXPECT_EQ(signer->public_url(), "https://l.example");
  EXPECT_TRUE(signer->is_own_link("https://L.example/v1/l?u=x&s=y"));
  EXPECT_FALSE(signer->is_own_link("https://l.example.evil/v1/l?u=x&s=y"));
  EXPECT_FALSE(signer->is_own_link("https://l.example/other"));
}

TEST(LinkToken, RefusesWeakConfiguration) {
  EXPECT_FALSE(LinkSigner::create("https://l.example", {}));
  EXPECT_FALSE(LinkSigner::create("https://l.example", {"short"}));
  EXPECT_FALSE(LinkSigner::create("ftp://l.example", {kKey1}));
  EXPECT_FALSE(LinkSigner::create("https://l.example/path", {kKey1}));
}

}  // namespace
}  // namespace mailmoat::links
