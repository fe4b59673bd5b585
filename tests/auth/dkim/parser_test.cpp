#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/crypto.h"
#include "auth/dkim/key_record.h"
#include "auth/dkim/signature.h"
#include "auth/dkim/tag_list.h"

namespace mailmoat::auth::dkim {

TEST(DkimTagList, ParsesTrimsAndRejectsDuplicates) {
  auto t = TagList::parse(" a = 1 ;b=x y\r\n z; c=;");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t->value("a"), "1");
  EXPECT_EQ(*t->value("b"), "x y\r\n z");
  EXPECT_EQ(*t->value("c"), "");
  auto dup = TagList::parse("a=1; a=2");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "duplicate tag a=");
  EXPECT_FALSE(TagList::parse("a=1; junk"));
  EXPECT_FALSE(TagList::parse("1a=1"));
}

TEST(DkimTagList, BlankingKeepsEverythingButTheValue) {
  std::string text = "v=1; bh=abc; b=de\r\n f; x=2";
  auto t = TagList::parse(text);
  ASSERT_TRUE(t);
  EXPECT_EQ(blank_tag_value(text, *t->find("b")), "v=1; bh=abc; b=; x=2");
}

constexpr const char* kGood =
    "v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=sel; h=From:To; bh=AAAA; b=AAAA; i=joe@mail.example.com; l=10";

TEST(DkimSignature, ParsesRequiredAndOptionalTags) {
  auto s = parse_signature(kGood);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->domain, "example.com");
  EXPECT_EQ(s->header_canon, Canon::relaxed);
  EXPECT_EQ(s->body_canon, Canon::simple);
  EXPECT_EQ(s->identity, "joe@mail.example.com");
  EXPECT_EQ(s->length, 10u);
  EXPECT_EQ(s->key_query_name(), "sel._domainkey.example.com");
}

TEST(DkimSignature, SyntaxErrorsCarryReasons) {
  auto reason = [](const std::string& v) {
    auto s = parse_signature(v);
    return s ? std::string("accepted") : s.error().message;
  };
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; bh=AAAA"), "missing tag b=");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA"), "missing tag bh=");
  EXPECT_EQ(reason("a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA; bh=AAAA"), "missing tag v=");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=A*AA; bh=AAAA"), "bad base64 in b=");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=to; b=AAAA; bh=AAAA"), "h= does not include From");
  EXPECT_EQ(reason("v=1; a=rsa-md5; d=e.com; s=s; h=from; b=AAAA; bh=AAAA"), "unsupported algorithm a=rsa-md5");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA; bh=AAAA; i=x@other.com"), "i= domain is not within d=");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA; bh=AAAA; l=99999999999999999999999"),
            "l= value is too large");
  EXPECT_EQ(reason("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA; bh=AAAA; t=10; x=5"), "x= is before t=");
  EXPECT_EQ(reason("v=1; v=1; a=rsa-sha256"), "duplicate tag v=");
}

TEST(DkimSignature, QuotedPrintableIdentity) {
  auto s = parse_signature("v=1; a=rsa-sha256; d=e.com; s=s; h=from; b=AAAA; bh=AAAA; i=jo=3Dy@e.com");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->identity, "jo=y@e.com");
}

TEST(DkimKeyRecord, ParsesFlagsAndRevocation) {
  auto k = parse_key_record("v=DKIM1; k=ed25519; t=y:s; h=sha256; s=email; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->type, KeyType::ed25519);
  EXPECT_TRUE(k->testing);
  EXPECT_TRUE(k->strict_identity);
  EXPECT_EQ(k->key_data.size(), 32u);
  auto revoked = parse_key_record("v=DKIM1; p=");
  ASSERT_TRUE(revoked);
  EXPECT_TRUE(revoked->revoked);
  EXPECT_FALSE(parse_key_record("k=rsa; v=DKIM1; p=AAAA"));  // v= not first
  EXPECT_FALSE(parse_key_record("v=DKIM1:; p=AAAA"));
  EXPECT_FALSE(parse_key_record("v=DKIM1; k=dsa; p=AAAA"));
  EXPECT_FALSE(parse_key_record("v=DKIM1; k=rsa"));
}

TEST(DkimCrypto, RsaKeysUnder1024BitsAreRefusedCitingRfc8301) {
  // The 512-bit key of the Mail::DKIM corpus (test1._domainkey.messiah.edu).
  auto der = base64_decode(
      "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmfcIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/AVJ+dYfY+hXqMsT7l+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ==");
  ASSERT_TRUE(der);
  auto key = load_public_key(KeyType::rsa, *der);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().message, "RSA key of 512 bits is shorter than the 1024 bits RFC 8301 requires");
}

TEST(DkimCrypto, AKeySeenBeforeIsSharedNotParsedAgain) {
  auto priv = generate_private_key(KeyType::rsa, 2048);
  ASSERT_TRUE(priv);
  const std::string der = public_key_bytes(*priv);
  auto first = load_public_key(KeyType::rsa, der);
  auto second = load_public_key(KeyType::rsa, der);
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_EQ(first->key.get(), second->key.get());
  EXPECT_EQ(second->bits, 2048);
  auto sig = sign_data(*priv, "header data");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify_signature(*second, "header data", *sig));
  EXPECT_FALSE(verify_signature(*second, "other data", *sig));
  // The same bytes read as another key type are not that key.
  EXPECT_FALSE(load_public_key(KeyType::ed25519, der));
  // A different key is its own.
  auto other = generate_private_key(KeyType::rsa, 2048);
  ASSERT_TRUE(other);
  auto third = load_public_key(KeyType::rsa, public_key_bytes(*other));
  ASSERT_TRUE(third);
  EXPECT_NE(third->key.get(), first->key.get());
  EXPECT_FALSE(verify_signature(*third, "header data", *sig));
}

TEST(DkimCrypto, Base64RoundTripAndStrictness) {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(*base64_decode(base64_encode(s)), s);
  EXPECT_FALSE(base64_decode("QQ=A"));
  EXPECT_FALSE(base64_decode("Q"));
  EXPECT_EQ(*base64_decode("QU\r\n JD"), "ABC");
}

// base64_decode takes four characters at a time at group boundaries; FWS
// anywhere must give the same bytes, and errors must not slip through it.
TEST(DkimCrypto, Base64WithFwsAnywhereDecodesAsWithout) {
  std::uint32_t seed = 777;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  const std::string fws[] = {" ", "\t", "\r\n ", "  "};
  for (int round = 0; round < 300; ++round) {
    std::string bytes;
    for (int n = static_cast<int>(next() % 70); n > 0; --n) bytes += static_cast<char>(next() & 0xff);
    std::string text;
    for (char c : base64_encode(bytes)) {
      if (next() % 5 == 0) text += fws[next() % 4];
      text += c;
    }
    auto decoded = base64_decode(text);
    ASSERT_TRUE(decoded) << text;
    EXPECT_EQ(*decoded, bytes) << text;
  }
  EXPECT_FALSE(base64_decode("QUJD=QUJD"));  // data after padding
  EXPECT_FALSE(base64_decode("QUJDQ"));      // a lone sixth-bit group
  EXPECT_FALSE(base64_decode("QUJD!UJD"));   // not base64
  EXPECT_FALSE(base64_decode("QUJDQUJD===="));
  EXPECT_EQ(*base64_decode("QUJDQQ=="), "ABCA");
}

// A plain reading of the relaxed header rule (RFC 6376 3.4.2) against the
// 16-bytes-at-a-time copy of ordinary runs, on random fields.
TEST(DkimCanonicalization, RelaxedHeaderEqualsPlainRuleOnRandomFields) {
  auto plain = [](std::string_view field) {
    std::size_t colon = field.find(':');
    std::string name(field.substr(0, colon)), value, out;
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool space = false;
    for (char c : field.substr(colon + 1)) {
      if (c == '\r' || c == '\n') continue;
      if (c == ' ' || c == '\t') {
        space = true;
        continue;
      }
      if (space && !value.empty()) value += ' ';
      space = false;
      value += c;
    }
    return name + ":" + value + "\r\n";
  };
  std::uint32_t seed = 4242;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz=;:/ \t";
  for (int round = 0; round < 500; ++round) {
    std::string field = "X-Test-Name:";
    for (int n = static_cast<int>(next() % 120); n > 0; --n) {
      if (next() % 23 == 0) field += "\r\n\t";
      field += alphabet[next() % alphabet.size()];
    }
    EXPECT_EQ(canonicalize_header(field, Canon::relaxed), plain(field)) << field;
  }
}

TEST(DkimCanonicalization, HeaderRelaxedAndSimple) {
  EXPECT_EQ(canonicalize_header("SubJect :  Hello \r\n\t World  ", Canon::relaxed), "subject:Hello World\r\n");
  EXPECT_EQ(canonicalize_header("SubJect :  Hello ", Canon::simple), "SubJect :  Hello \r\n");
}

// RFC 6376 3.4.5 example.
TEST(DkimCanonicalization, Rfc6376Example) {
  std::string body = " C \r\nD \t E\r\n\r\n\r\n";
  EXPECT_EQ(canonicalize_body(body, Canon::relaxed), " C\r\nD E\r\n");
  EXPECT_EQ(canonicalize_body(body, Canon::simple), " C \r\nD \t E\r\n");
  EXPECT_EQ(canonicalize_body("", Canon::simple), "\r\n");
  EXPECT_EQ(canonicalize_body("", Canon::relaxed), "");
  EXPECT_EQ(canonicalize_body("x", Canon::relaxed), "x\r\n");
}

TEST(DkimCanonicalization, StreamingHashEqualsOneShotAtAnySplit) {
  std::string body = "line one  \r\n\r\n\tindented\r\nbare\nlf\r\n \r\n\r\n";
  for (Canon c : {Canon::simple, Canon::relaxed}) {
    std::string expected = sha256(canonicalize_body(body, c));
    for (std::size_t split = 0; split <= body.size(); ++split) {
      BodyHasher h(c, std::nullopt);
      h.update(body.substr(0, split));
      h.update(body.substr(split));
      EXPECT_EQ(h.finish(), expected) << "split at " << split;
    }
  }
}

// The streaming hasher's relaxed line rule works 16 bytes at a time; random
// lines of spaces, tabs, bare CR/LF and text (runs crossing every block
// boundary) must hash as the one-shot byte-at-a-time canonicalization does.
TEST(DkimCanonicalization, RelaxedBlockwiseLineRuleEqualsOneShotOnRandomBodies) {
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  const std::string alphabet = "  \t\t\t a b\rc\nd";
  for (int round = 0; round < 500; ++round) {
    std::string body;
    for (int line = 0, lines = 1 + next() % 5; line < lines; ++line) {
      for (int n = next() % 80; n > 0; --n) body += alphabet[next() % alphabet.size()];
      body += "\r\n";
    }
    BodyHasher h(Canon::relaxed, std::nullopt);
    h.update(body);
    ASSERT_EQ(h.finish(), sha256(canonicalize_body(body, Canon::relaxed))) << "round " << round;
  }
}

// Bodies fed in random chunks: the per-chunk fast path for whole CRLF lines
// hands over to the general loop at a bare LF or a partial line and back.
TEST(DkimCanonicalization, RelaxedRandomBodiesInRandomChunksEqualOneShot) {
  std::uint32_t seed = 99;
  auto next = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff; };
  const std::string alphabet = "  \t\t a b\rc\nd";
  for (int round = 0; round < 300; ++round) {
    std::string body;
    for (int line = 0, lines = 1 + static_cast<int>(next() % 8); line < lines; ++line) {
      for (int n = static_cast<int>(next() % 60); n > 0; --n) body += alphabet[next() % alphabet.size()];
      body += "\r\n";
    }
    BodyHasher h(Canon::relaxed, std::nullopt);
    for (std::size_t i = 0; i < body.size();) {
      std::size_t n = 1 + next() % 40;
      h.update(std::string_view(body).substr(i, n));
      i += n;
    }
    ASSERT_EQ(h.finish(), sha256(canonicalize_body(body, Canon::relaxed))) << "round " << round;
  }
}

TEST(DkimCanonicalization, LengthLimitHashesPrefixAndCountsTheRest) {
  BodyHasher h(Canon::simple, 5);
  h.update("hello world\r\n");
  EXPECT_EQ(h.finish(), sha256("hello"));
  EXPECT_EQ(h.canonical_length(), 13u);
  EXPECT_EQ(h.hashed_length(), 5u);
}

}  // namespace mailmoat::auth::dkim
