// The disclaimer action on message bytes: text and HTML parts, transfer
// encodings and charsets kept, append and prepend, the three fallbacks for a
// message that cannot be changed, once per message when several rules ask,
// and composition with an earlier filter's body edit (Safe Links).
// Through the gateway: tests/integration/disclaimer_test.cpp.
#include "filters/rules/disclaimer.h"

#include <gtest/gtest.h>

#include "filters/rules/rules_filter.h"
#include "links/gmime_adaptor.h"
#include "mail/message.h"
#include "pipeline/chain.h"
#include "policy/loader.h"

namespace mailmoat::filters {
namespace {

using links::gmime::TransferEncoding;

pipeline::DisclaimerRequest request(std::string text, std::string fallback = "wrap", bool prepend = false) {
  return {"footer", std::move(text), "", prepend, std::move(fallback)};
}

struct Outcome {
  pipeline::Verdict verdict;
  std::string message;  // with the edits applied
  std::vector<pipeline::TraceNote> notes;
};

Outcome run(const std::string& message, std::optional<pipeline::DisclaimerRequest> req,
        std::optional<std::string> earlier_body = std::nullopt) {
  pipeline::MessageContext ctx;
  ctx.message = message;
  ctx.disclaimer = std::move(req);
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::prepend, "Authentication-Results", "mx; spf=pass"});
  ctx.edits.body = std::move(earlier_body);
  DisclaimerFilter filter;
  Outcome r;
  filter.on_message(ctx, [&](pipeline::Verdict v) { r.verdict = std::move(v); });
  r.message = ctx.message;
  pipeline::apply_edits(r.message, ctx.edits);
  r.notes = ctx.notes;
  return r;
}

std::string body_of(const std::string& m) { return m.substr(m.find("\r\n\r\n") + 4); }

// The decoded body of the part whose header contains `type` (first match).
std::string decoded_part(const std::string& m, const std::string& type) {
  std::size_t at = m.find("Content-Type: " + type);
  EXPECT_NE(at, std::string::npos) << type;
  if (at == std::string::npos) return {};
  std::size_t head_end = m.find("\r\n\r\n", at);
  std::string head = m.substr(at, head_end - at);
  std::size_t end = m.find("\r\n--", head_end + 4);
  std::string raw = m.substr(head_end + 4, end - head_end - 4);
  TransferEncoding e = head.find("base64") != std::string::npos             ? TransferEncoding::base64
                       : head.find("quoted-printable") != std::string::npos ? TransferEncoding::quoted_printable
                                                                            : TransferEncoding::identity;
  return links::gmime::decode(raw, e);
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

TEST(Disclaimer, PlainTextGetsItAtTheEndWithTheOriginalIntact) {
  Outcome r = run("Subject: hi\r\n\r\nHello Bob,\r\nsee you.\r\n", request("Confidential.\nDo not forward."));
  EXPECT_EQ(r.verdict.disposition, pipeline::Disposition::accept);
  EXPECT_EQ(body_of(r.message), "Hello Bob,\r\nsee you.\r\n\r\nConfidential.\r\nDo not forward.\r\n");
  EXPECT_TRUE(r.message.starts_with("Authentication-Results: mx; spf=pass\r\nSubject: hi\r\n"));
  EXPECT_EQ(r.notes.back().event, "disclaimer_added");
  EXPECT_EQ(r.notes.back().detail, "rule 'footer': added to 1 text part(s) at the end");
}

// Found by the fuzz target (input kept in fuzz/corpus/disclaimer/): a message
// that is all header, without the empty line, gets its disclaimer as a body
// after an empty line, and the result still parses with every field kept.
TEST(Disclaimer, HeaderOnlyMessageGetsTheEmptyLineBeforeItsNewBody) {
  Outcome r = run("Subject: hi\r\nX-Folded: a\r\n\tb\r\n", request("Confidential."));
  EXPECT_EQ(r.verdict.disposition, pipeline::Disposition::accept);
  EXPECT_EQ(r.message, "Authentication-Results: mx; spf=pass\r\nSubject: hi\r\nX-Folded: a\r\n\tb\r\n\r\n"
                       "\r\nConfidential.\r\n");
  auto parsed = mail::Message::parse(r.message);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fields().size(), 3u);
}

// The second one: the message even ends inside its last field (possible with
// BDAT). The field is ended before the empty line and the new body.
TEST(Disclaimer, MessageEndingInsideItsLastFieldGetsThatLineEnded) {
  Outcome r = run("Subject: hi\r\nX-Folded: a\r\n\tb", request("Confidential."));
  EXPECT_EQ(r.message, "Authentication-Results: mx; spf=pass\r\nSubject: hi\r\nX-Folded: a\r\n\tb\r\n\r\n"
                       "\r\nConfidential.\r\n");
  auto parsed = mail::Message::parse(r.message);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->fields().size(), 3u);
}

TEST(Disclaimer, PrependPutsItFirstInTextAndAfterBodyTagInHtml) {
  Outcome text = run("Subject: hi\r\n\r\nHello\r\n", request("NOTICE", "wrap", true));
  EXPECT_EQ(body_of(text.message), "NOTICE\r\n\r\nHello\r\n");
  Outcome html = run("Content-Type: text/html\r\n\r\n<html><BODY class=\"x\"><p>Hi</p></body></html>\r\n",
                 request("NOTICE", "wrap", true));
  EXPECT_EQ(body_of(html.message), "<html><BODY class=\"x\">\r\n<p>NOTICE</p>\r\n<p>Hi</p></body></html>\r\n");
}

TEST(Disclaimer, HtmlGoesBeforeTheClosingBodyTagEscapedWhenNoHtmlGiven) {
  Outcome r = run("Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hi</p></body></html>\r\n",
              request("Terms & <conditions>\nline 2"));
  EXPECT_EQ(body_of(r.message),
            "<html><body><p>Hi</p><p>Terms &amp; &lt;conditions&gt;<br>\r\nline 2</p>\r\n</body></html>\r\n");
  auto req = request("plain");
  req.html = "<div class=\"disc\">Given <b>HTML</b></div>";
  Outcome given = run("Content-Type: text/html\r\n\r\n<p>no body tag</p>\r\n", req);
  EXPECT_EQ(body_of(given.message), "<p>no body tag</p>\r\n\r\n<div class=\"disc\">Given <b>HTML</b></div>\r\n");
}

TEST(Disclaimer, BothAlternativesInTheirOwnEncodings) {
  std::string plain = "Hello =E2=82=AC caf=C3=A9 " + std::string(70, 'x') + "\r\n";
  std::string html_b64 = links::gmime::encode("<html><body><p>Hello</p></body></html>\r\n", TransferEncoding::base64);
  std::string m =
      "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\npreamble\r\n"
      "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
      plain + "--b1\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + html_b64 +
      "--b1--\r\nepilogue\r\n";
  Outcome r = run(m, request("Vertraulich – © Corp"));
  ASSERT_EQ(r.verdict.disposition, pipeline::Disposition::accept);
  EXPECT_EQ(r.notes.back().detail, "rule 'footer': added to 2 text part(s) at the end");
  std::string text = decoded_part(r.message, "text/plain");
  EXPECT_EQ(text, "Hello € café " + std::string(70, 'x') + "\r\n\r\nVertraulich – © Corp");
  std::string html = decoded_part(r.message, "text/html");
  EXPECT_EQ(html, "<html><body><p>Hello</p><p>Vertraulich – © Corp</p>\r\n</body></html>\r\n");
  // Still quoted-printable and base64, lines within their limits; preamble and epilogue kept.
  EXPECT_NE(r.message.find("Content-Transfer-Encoding: quoted-printable\r\n\r\n"), std::string::npos);
  EXPECT_NE(r.message.find("Vertraulich =E2=80=93 =C2=A9 Corp"), std::string::npos);
  EXPECT_NE(r.message.find("\r\n\r\npreamble\r\n--b1\r\n"), std::string::npos);
  EXPECT_TRUE(r.message.ends_with("--b1--\r\nepilogue\r\n"));
  for (std::size_t start = 0, nl; (nl = r.message.find("\r\n", start)) != std::string::npos; start = nl + 2)
    EXPECT_LE(nl - start, 76u);
}

TEST(Disclaimer, Latin1PartIsWrittenInLatin1OrFallsBackWhenNotRepresentable) {
  std::string m = "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdf" "e\r\n";
  Outcome ok = run(m, request("© Corp"));
  EXPECT_EQ(body_of(ok.message), "Gr\xfc\xdf" "e\r\n\r\n\xa9 Corp\r\n");
  Outcome no = run(m, request("Vertraulich – Corp", "ignore"));  // no en dash in Latin-1
  EXPECT_EQ(no.message, "Authentication-Results: mx; spf=pass\r\n" + m);
  EXPECT_EQ(no.notes.back().event, "disclaimer_not_added");
  EXPECT_NE(no.notes.back().detail.find("cannot be written in charset iso-8859-1"), std::string::npos);
}

TEST(Disclaimer, SevenBitAndAsciiPartsAreRedeclaredForEightBitText) {
  // A 7bit UTF-8 message: the text stays UTF-8 and becomes quoted-printable.
  Outcome seven = run("Content-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n", request("Société", "ignore"));
  EXPECT_EQ(body_of(seven.message), "hello\r\n\r\nSoci=C3=A9t=C3=A9\r\n");
  EXPECT_EQ(pipeline::header_value(seven.message, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(pipeline::header_value(seven.message, "MIME-Version"), "1.0");
  // Plain ASCII mail with no MIME header at all: re-declared as UTF-8, quoted-printable.
  Outcome ascii = run("Subject: x\r\n\r\nhello\r\n", request("Société", "ignore"));
  EXPECT_EQ(pipeline::header_value(ascii.message, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(pipeline::header_value(ascii.message, "Content-Transfer-Encoding"), "quoted-printable");
  EXPECT_EQ(body_of(ascii.message), "hello\r\n\r\nSoci=C3=A9t=C3=A9\r\n");
  // Inside a multipart the part's own header is changed, its other parameters kept.
  Outcome inner = run(
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain; format=flowed; "
      "charset=\"US-ASCII\"\r\n\r\nhello\r\n--m--\r\n",
      request("Société"));
  EXPECT_NE(inner.message.find("--m\r\nContent-Type: text/plain; format=flowed; charset=utf-8\r\n"
                               "Content-Transfer-Encoding: quoted-printable\r\n\r\nhello\r\n\r\nSoci=C3=A9t=C3=A9\r\n--m--"),
            std::string::npos)
      << inner.message;
  EXPECT_EQ(pipeline::header_value(inner.message, "Content-Transfer-Encoding"), "");
  // ASCII disclaimers leave 7bit parts 7bit.
  Outcome plain = run("Subject: x\r\n\r\nhello\r\n", request("Corp"));
  EXPECT_EQ(plain.message, "Authentication-Results: mx; spf=pass\r\nSubject: x\r\n\r\nhello\r\n\r\nCorp\r\n");
}

const std::string kSigned =
    "From: a@example.org\r\nSubject: signed\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"s1\"\r\n\r\n"
    "--s1\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n"
    "--s1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIB\r\n--s1--\r\n";

TEST(Disclaimer, SignedMessageFallbackWrapAttachesTheOriginalUntouched) {
  Outcome r = run(kSigned, request("Company disclaimer"));
  ASSERT_EQ(r.verdict.disposition, pipeline::Disposition::accept);
  EXPECT_EQ(r.notes.back().event, "disclaimer_wrapped");
  EXPECT_NE(r.notes.back().detail.find("multipart/signed is signed or encrypted"), std::string::npos);
  std::string ct = pipeline::header_value(r.message, "Content-Type");
  ASSERT_TRUE(ct.starts_with("multipart/mixed; boundary=\"=_mailmoat_disclaimer_")) << ct;
  EXPECT_EQ(pipeline::header_value(r.message, "Subject"), "signed");  // headers stay on the outer message
  EXPECT_EQ(pipeline::header_value(r.message, "From"), "a@example.org");
  std::string boundary = ct.substr(ct.find('"') + 1);
  boundary.pop_back();
  std::string body = body_of(r.message);
  EXPECT_NE(body.find("--" + boundary + "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: 7bit\r\n\r\nCompany disclaimer\r\n\r\n--" + boundary +
                      "\r\nContent-Type: message/rfc822\r\n"),
            std::string::npos);
  // The attached message is the original byte for byte (with the earlier filter's header), so its signature holds.
  EXPECT_NE(body.find("\r\n\r\nAuthentication-Results: mx; spf=pass\r\n" + kSigned + "\r\n--" + boundary + "--\r\n"),
            std::string::npos);
}

TEST(Disclaimer, SignedMessageFallbackIgnoreAndReject) {
  Outcome ignored = run(kSigned, request("Company disclaimer", "ignore"));
  EXPECT_EQ(ignored.verdict.disposition, pipeline::Disposition::accept);
  EXPECT_EQ(ignored.message, "Authentication-Results: mx; spf=pass\r\n" + kSigned);
  EXPECT_EQ(ignored.notes.back().event, "disclaimer_not_added");
  Outcome rejected = run(kSigned, request("Company disclaimer", "reject"));
  EXPECT_EQ(rejected.verdict.disposition, pipeline::Disposition::reject);
  EXPECT_EQ(rejected.verdict.code, 550);
  EXPECT_EQ(rejected.verdict.enhanced, "5.7.1");
  EXPECT_EQ(rejected.verdict.text,
            "Message cannot carry the disclaimer required by policy: part 1: multipart/signed is signed or "
            "encrypted; never modified");
  EXPECT_NE(rejected.verdict.reason.find("fallback reject"), std::string::npos);
}

TEST(Disclaimer, InlinePgpTextIsNeverModified) {
  std::string m = "Subject: pgp\r\n\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nhi\r\n"
                  "-----BEGIN PGP SIGNATURE-----\r\n\r\niQEzBAEBCAAdFiEE\r\n-----END PGP SIGNATURE-----\r\n";
  Outcome r = run(m, request("D", "ignore"));
  EXPECT_EQ(r.message, "Authentication-Results: mx; spf=pass\r\n" + m);
  EXPECT_NE(r.notes.back().detail.find("inline PGP signed or encrypted text; never modified"), std::string::npos);
}

TEST(Disclaimer, NoTextPartMeansTheFallbackAndAttachmentsAreNotTouched) {
  std::string m =
      "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n"
      "Content-Disposition: attachment; filename=a.txt\r\n\r\nfile\r\n--m--\r\n";
  Outcome r = run(m, request("D", "ignore"));
  EXPECT_NE(r.notes.back().detail.find("no text part to carry a disclaimer"), std::string::npos);
}

TEST(Disclaimer, ComposesWithAnEarlierBodyEdit) {
  // Safe Links ran first and replaced the body; the disclaimer goes onto that body.
  Outcome r = run("Subject: hi\r\n\r\nhttp://evil.example/\r\n", request("D"), "https://links.example/v1/l?t=1\r\n");
  EXPECT_EQ(body_of(r.message), "https://links.example/v1/l?t=1\r\n\r\nD\r\n");
}

TEST(Disclaimer, NothingAskedNothingChanged) {
  Outcome r = run("Subject: hi\r\n\r\nx\r\n", std::nullopt);
  EXPECT_TRUE(r.notes.empty());
  EXPECT_EQ(body_of(r.message), "x\r\n");
}

TEST(Disclaimer, TwoMatchingRulesAddItOnceTheFirstWinsTraced) {
  auto loaded = policy::load_rules(
      "[[rule]]\nname = \"legal\"\npriority = 1\nactions = [{ disclaimer = { text = \"LEGAL\" } }]\n"
      "[[rule]]\nname = \"marketing\"\npriority = 2\n"
      "actions = [{ disclaimer = { text = \"MARKETING\", position = \"prepend\", fallback = \"reject\" } }]\n",
      "t.toml");
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.to_string();
  ASSERT_TRUE(loaded.rules);
  RulesFilter rules({}, std::make_shared<const policy::RuleSet>(std::move(*loaded.rules)), [] { return 0; });
  pipeline::MessageContext ctx;
  ctx.message = "Subject: hi\r\n\r\nbody\r\n";
  ctx.envelope.recipients = {{"u@corp.example", "", ""}};
  rules.on_message(ctx, [](pipeline::Verdict) {});
  ASSERT_TRUE(ctx.disclaimer);
  EXPECT_EQ(ctx.disclaimer->rule, "legal");
  bool traced = false;
  for (const auto& n : ctx.notes)
    traced |= n.detail == "rule 'marketing': disclaimer not added, rule 'legal' already adds one (once per message)";
  EXPECT_TRUE(traced);
  DisclaimerFilter filter;
  filter.on_message(ctx, [](pipeline::Verdict) {});
  std::string out = ctx.message;
  pipeline::apply_edits(out, ctx.edits);
  EXPECT_EQ(body_of(out), "body\r\n\r\nLEGAL\r\n");
  EXPECT_EQ(count(out, "MARKETING"), 0u);
}

TEST(Disclaimer, LoaderChecksTheActionsShape) {
  auto error = [](const std::string& action) {
    auto r = policy::load_rules("[[rule]]\nname = \"x\"\npriority = 1\nactions = [{ disclaimer = " + action + " }]\n",
                                "r.toml");
    return r.errors.empty() ? std::string() : r.errors.front().to_string();
  };
  EXPECT_EQ(error("{ text = \"ok\", html = \"<b>ok</b>\", position = \"prepend\", fallback = \"ignore\" }"), "");
  EXPECT_NE(error("{ text = \"ok\", fallback = \"drop\" }").find("fallback = \"wrap\" | \"ignore\" | \"reject\""),
            std::string::npos);
  EXPECT_NE(error("{ html = \"<b>x</b>\" }").find("text is required"), std::string::npos);
  EXPECT_NE(error("{ text = \"a\\u0000b\" }").find("control characters"), std::string::npos);
  EXPECT_NE(error("\"just text\"").find("r.toml:4: disclaimer:"), std::string::npos);
}

}  // namespace
}  // namespace mailmoat::filters
