// MessageFacts from real message bytes: decoded subject and text parts,
// message types, internal/external sender and direction, the body limit.
#include <gtest/gtest.h>

#include <deque>

#include "policy/facts.h"

namespace mailmoat::policy {
namespace {

FactsInput input(const std::string& message) {
  static std::deque<std::string> kept;  // FactsInput borrows the bytes
  FactsInput in;
  in.message = kept.emplace_back(message);
  in.envelope_sender = "Alice@Corp.Example";
  in.envelope_recipients = {"bob@partner.example"};
  in.role = "relay";
  in.internal_domains = {"corp.example"};
  return in;
}

TEST(MessageFacts, DecodesSubjectAndTextParts) {
  std::string m =
      "From: =?UTF-8?Q?J=C3=BCrgen?= <jurgen@corp.example>\r\n"
      "Subject: =?UTF-8?B?UmVjaG51bmcgw7xiZXJmw6RsbGln?=\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
      "Gr=FC=DFe, bitte zahlen\r\n"
      "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "PHA+PGI+dXJnZW50PC9iPjwvcD4=\r\n"
      "--b--\r\n";
  auto in = input(m);
  auto f = build_facts(in);
  EXPECT_EQ(f.subject, "Rechnung \xC3\xBC" "berf\xC3\xA4llig");
  EXPECT_NE(f.body.find("Gr\xC3\xBC\xC3\x9F" "e, bitte zahlen"), std::string::npos) << f.body;
  EXPECT_NE(f.body.find(" urgent "), std::string::npos) << f.body;  // tags removed
  EXPECT_EQ(f.body.find("<b>"), std::string::npos);
  EXPECT_EQ(f.header_from, "jurgen@corp.example");
  EXPECT_EQ(f.envelope_sender, "alice@corp.example");
  EXPECT_TRUE(f.sender_internal);
  EXPECT_EQ(f.direction, "outbound");
  EXPECT_TRUE(f.body_problem.empty());
}

// UTF-8 and US-ASCII parts skip charset conversion when they are what they say;
// the text is the same either way, and a part that is not goes through GMime's.
TEST(MessageFacts, TextIsTheSameWhateverPathItsCharsetTakes) {
  auto body_of = [](const std::string& type, const std::string& cte, const std::string& content) {
    std::string m = "From: a@corp.example\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: " + type +
                    "\r\nContent-Transfer-Encoding: " + cte + "\r\n\r\n" + content;
    return build_facts(input(m)).body;
  };
  const std::string gruss = "Gr\xC3\xBC\xC3\x9F" "e";
  EXPECT_EQ(body_of("text/plain; charset=utf-8", "quoted-printable", "Gr=C3=BC=C3=9Fe\r\n"), gruss + "\r\n");
  EXPECT_EQ(body_of("text/plain; charset=UTF-8", "base64", "R3LDvMOfZQ==\r\n"), gruss);
  EXPECT_EQ(body_of("text/plain", "8bit", gruss + "\r\n"), gruss + "\r\n");
  EXPECT_EQ(body_of("text/plain; charset=us-ascii", "7bit", "plain words\r\n"), "plain words\r\n");
  EXPECT_EQ(body_of("text/plain; charset=iso-8859-1", "quoted-printable", "Gr=FC=DFe\r\n"), gruss + "\r\n");
  // Mislabelled: Latin-1 bytes said to be US-ASCII or UTF-8 are not passed through as they are.
  const std::string latin = body_of("text/plain; charset=us-ascii", "8bit", "Gr\xFC\xDF" "e\r\n");
  EXPECT_EQ(latin.find("\xFC"), std::string::npos) << latin;
  // Text ends at a NUL, as GMime's own decoding gives it.
  EXPECT_EQ(body_of("text/plain; charset=utf-8", "base64", "YWIAY2Q=\r\n"), "ab");
}

TEST(MessageFacts, InboundClaimingOurDomainIsExternal) {
  auto in = input("From: a@corp.example\r\n\r\nhi\r\n");
  in.role = "inbound";
  in.envelope_recipients = {"bob@corp.example"};
  auto f = build_facts(in);
  EXPECT_FALSE(f.sender_internal);
  EXPECT_EQ(f.direction, "inbound");
  in.role = "submission";
  EXPECT_EQ(build_facts(in).direction, "internal");
}

TEST(MessageFacts, BodyIsLimited) {
  std::string m = "Subject: x\r\n\r\n" + std::string(10000, 'a') + "\r\n";
  auto in = input(m);
  in.body_limit = 1024;
  auto f = build_facts(in);
  EXPECT_EQ(f.body.size(), 1024u);
  EXPECT_TRUE(f.body_truncated);
}

TEST(MessageFacts, MessageTypes) {
  auto has = [](const MessageFacts& f, const std::string& t) {
    return std::find(f.message_types.begin(), f.message_types.end(), t) != f.message_types.end();
  };
  auto f = build_facts(input("Auto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway\r\n"));
  EXPECT_TRUE(has(f, "auto_reply"));
  f = build_facts(input("Resent-From: x@corp.example\r\n\r\nfwd\r\n"));
  EXPECT_TRUE(has(f, "auto_forward"));
  f = build_facts(input("Content-Type: multipart/report; report-type=disposition-notification; boundary=z\r\n\r\n"
                        "--z\r\nContent-Type: text/plain\r\n\r\nread\r\n--z--\r\n"));
  EXPECT_TRUE(has(f, "read_receipt"));
  f = build_facts(input("Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=s\r\n\r\n"
                        "--s\r\nContent-Type: text/plain\r\n\r\nsigned\r\n--s\r\n"
                        "Content-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n"));
  EXPECT_TRUE(has(f, "signed"));
  f = build_facts(input("Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nAAAA\r\n"));
  EXPECT_TRUE(has(f, "encrypted"));
  f = build_facts(input("Content-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: text/calendar\r\n\r\n"
                        "BEGIN:VCALENDAR\r\n--c--\r\n"));
  EXPECT_TRUE(has(f, "calendar"));
  auto in = input("Subject: bounce\r\n\r\nx\r\n");
  in.envelope_sender = "";
  EXPECT_TRUE(has(build_facts(in), "bounce"));
}

TEST(MessageFacts, UnparsableHeaderIsRecordedNotFatal) {
  auto f = build_facts(input("this is not a header\r\nSubject: x\r\n\r\nbody\r\n"));
  EXPECT_FALSE(f.body_problem.empty());
  EXPECT_TRUE(f.body.empty());
}

}  // namespace
}  // namespace mailmoat::policy
