#include "milter/session.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "packets.h"

namespace mailmoat::milter {
namespace {

using test::pkt;
using test::u32;
using test::z;

// Feeds a wire byte sequence through the session; returns every step's output
// concatenated and the last step's action.
struct Fed {
  std::string out;
  Session::Action action = Session::Action::none;
  std::string error;
};
Fed feed(Session& s, const std::string& wire) {
  PacketReader r;
  r.feed(wire);
  Fed f;
  while (auto p = r.next()) {
    auto step = s.on_packet(*p);
    f.out += step.out;
    f.action = step.action;
    f.error = step.error;
  }
  return f;
}

std::vector<Packet> packets(const std::string& wire) {
  PacketReader r;
  r.feed(wire);
  std::vector<Packet> out;
  while (auto p = r.next()) out.push_back(*p);
  return out;
}

// A recorded-style Postfix transaction: macros per stage, connect, helo, mail, rcpt, headers (with leading space), body.
std::string transaction(const std::string& sender = "alice@example.org", const std::string& extra_headers = "") {
  std::string w;
  w += pkt('D', "C" + z("j") + z("mx.example.net") + z("{daemon_name}") + z("smtpd") + z("{client_addr}") +
                    z("192.0.2.10"));
  w += pkt('C', z("mail.example.org") + "4" + std::string("\xd4\x31", 2) + z("192.0.2.10"));
  w += pkt('D', "H" + z("{tls_version}") + z("TLSv1.3") + z("{cipher}") + z("TLS_AES_256_GCM_SHA384"));
  w += pkt('H', z("mail.example.org"));
  w += pkt('D', "M" + z("i") + z("4Qx1yZ2abc") + z("{mail_addr}") + z(sender));
  w += pkt('M', z("<" + sender + ">") + z("BODY=8BITMIME") + z("ENVID=e1"));
  w += pkt('R', z("<bob@example.net>") + z("NOTIFY=FAILURE") + z("ORCPT=rfc822;bob@example.net"));
  w += pkt('T');
  w += extra_headers;
  w += pkt('L', z("From") + z(" Alice <" + sender + ">"));
  w += pkt('L', z("Subject") + z(" hello\n\tthere"));
  w += pkt('N');
  w += pkt('B', "line one\r\n");
  w += pkt('B', "line two\r\n");
  w += pkt('E');
  return w;
}

Session negotiated(std::function<bool(const std::string&)> relay = {}) {
  SessionConfig c;
  c.listener = "postfix";
  c.is_relay_client = std::move(relay);
  Session s(c);
  auto f = feed(s, test::postfix_optneg());
  EXPECT_EQ(f.action, Session::Action::none);
  return s;
}

TEST(MilterSession, NegotiatesActionsNoReplyStepsAndMacros) {
  Session s(SessionConfig{});
  auto f = feed(s, test::postfix_optneg());
  auto p = packets(f.out);
  ASSERT_EQ(p.size(), 1u);
  ASSERT_EQ(p[0].command, 'O');
  ASSERT_GE(p[0].data.size(), 12u);
  EXPECT_EQ(p[0].data.substr(0, 4), u32(6));
  EXPECT_EQ(p[0].data.substr(4, 4), u32(0x17f));  // every action but ADDRCPT_PAR, SETSYMLIST included
  // No replies before end of message, header values with their leading space.
  EXPECT_EQ(s.negotiated().protocol, step::nr_connect | step::nr_helo | step::nr_mail | step::nr_rcpt |
                                         step::nr_data | step::nr_header | step::nr_eoh | step::nr_body |
                                         step::nr_unknown | step::header_leading_space);
  EXPECT_NE(p[0].data.find(z("i {auth_type} {auth_authen} {mail_addr}")), std::string::npos);
}

TEST(MilterSession, OlderMtaWithoutNoReplyGetsContinueForEveryStep) {
  Session s(SessionConfig{});
  feed(s, pkt('O', u32(2) + u32(0x3f) + u32(0)));
  EXPECT_EQ(s.negotiated().version, 2u);
  EXPECT_EQ(s.negotiated().protocol, 0u);
  auto f = feed(s, transaction());
  EXPECT_EQ(f.action, Session::Action::end_of_message);
  // connect, helo, mail, rcpt, data, 2 headers, eoh, 2 body chunks
  EXPECT_EQ(packets(f.out).size(), 10u);
  for (auto& p : packets(f.out)) EXPECT_EQ(p.command, 'c');
}

TEST(MilterSession, TransactionBecomesAMessageContext) {
  Session s = negotiated();
  auto f = feed(s, transaction());
  EXPECT_TRUE(f.out.empty());  // no-reply steps agreed
  ASSERT_EQ(f.action, Session::Action::end_of_message);
  auto ctx = s.message();
  ASSERT_TRUE(ctx);
  EXPECT_EQ(ctx->connection.client_address, "192.0.2.10");
  EXPECT_EQ(ctx->connection.client_port, 54321);
  EXPECT_EQ(ctx->connection.client_name, "mail.example.org");
  EXPECT_EQ(ctx->connection.helo, "mail.example.org");
  EXPECT_EQ(ctx->connection.listener, "postfix");
  EXPECT_EQ(ctx->connection.role, "inbound");
  EXPECT_TRUE(ctx->connection.tls.active);
  EXPECT_EQ(ctx->connection.tls.version, "TLSv1.3");
  EXPECT_EQ(ctx->connection.tls.cipher, "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(ctx->envelope.sender, "alice@example.org");
  EXPECT_EQ(ctx->envelope.body_type, "8BITMIME");
  EXPECT_EQ(ctx->envelope.envid, "e1");
  ASSERT_EQ(ctx->envelope.recipients.size(), 1u);
  EXPECT_EQ(ctx->envelope.recipients[0].address, "bob@example.net");
  EXPECT_EQ(ctx->envelope.recipients[0].notify, "FAILURE");
  EXPECT_EQ(ctx->envelope.recipients[0].orcpt, "rfc822;bob@example.net");
  EXPECT_EQ(ctx->mta_queue_id, "4Qx1yZ2abc");
  EXPECT_EQ(ctx->message,
            "From: Alice <alice@example.org>\r\nSubject: hello\r\n\tthere\r\n\r\nline one\r\nline two\r\n");
}

TEST(MilterSession, RoleFromAuthenticationOrRelayNetworks) {
  Session relay = negotiated([](const std::string& ip) { return ip == "192.0.2.10"; });
  feed(relay, transaction());
  EXPECT_EQ(relay.message()->connection.role, "relay");
  Session sub = negotiated();
  feed(sub, pkt('D', "M" + z("{auth_authen}") + z("alice")) + transaction());
  EXPECT_EQ(sub.message()->connection.role, "submission");
}

TEST(MilterSession, AcceptSendsHeaderChangesDiffedFromTheFinalMessage) {
  Session s = negotiated();
  std::string forged = pkt('L', z("Authentication-Results") + z(" mx.example.net; dmarc=pass")) +
                       pkt('L', z("Received") + z(" from x by y")) +
                       pkt('L', z("Authentication-Results") + z(" mx.example.net; spf=pass"));
  feed(s, transaction("alice@example.org", forged));
  auto ctx = s.message();
  // What the auth filter asks for: its own result on top, forged copies removed.
  ctx->edits.headers.push_back({pipeline::HeaderEdit::Op::remove, "Authentication-Results", ""});
  ctx->edits.headers.push_back({pipeline::HeaderEdit::Op::prepend, "Authentication-Results", "mx.example.net; spf=fail"});
  auto f = s.finish(pipeline::Verdict::accept(), ctx.get());
  auto p = packets(f.out);
  ASSERT_EQ(p.size(), 4u) << f.summary;
  // Bottom-up deletions by per-name index, then the insertion at the top, then continue.
  EXPECT_EQ(p[0].command, 'm');
  EXPECT_EQ(p[0].data, u32(2) + z("Authentication-Results") + z(""));
  EXPECT_EQ(p[1].data, u32(1) + z("Authentication-Results") + z(""));
  EXPECT_EQ(p[2].command, 'i');
  EXPECT_EQ(p[2].data, u32(0) + z("Authentication-Results") + z(" mx.example.net; spf=fail"));
  EXPECT_EQ(p[3].command, 'c');
  EXPECT_EQ(f.summary, "accept +1 -2 headers");
}

TEST(MilterSession, InPlaceBodyRewriteBecomesReplaceBodyAndAppendedFieldAddHeader) {
  Session s = negotiated();
  feed(s, transaction());
  auto ctx = s.message();
  ctx->message.replace(ctx->message.find("line two"), 8, "line 2");  // a filter editing the bytes itself
  ctx->edits.headers.push_back({pipeline::HeaderEdit::Op::append, "X-Mailmoat", "checked\r\n\tfolded"});
  ctx->edits.add_recipients.push_back("audit@example.net");
  auto p = packets(s.finish(pipeline::Verdict::accept(), ctx.get()).out);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].command, 'h');
  EXPECT_EQ(p[0].data, z("X-Mailmoat") + z(" checked\n\tfolded"));  // folds as LF for the MTA
  EXPECT_EQ(p[1].command, 'b');
  EXPECT_EQ(p[1].data, "line one\r\nline 2\r\n");
  EXPECT_EQ(p[2].command, '+');
  EXPECT_EQ(p[3].command, 'c');
}

TEST(MilterSession, UnchangedMessageGetsOnlyContinue) {
  Session s = negotiated();
  feed(s, transaction());
  auto f = s.finish(pipeline::Verdict::accept(), s.message().get());
  EXPECT_EQ(f.out, pkt('c'));
  EXPECT_EQ(f.summary, "accept");
}

TEST(MilterSession, RejectTempfailDiscardAndQuarantine) {
  Session s = negotiated();
  feed(s, transaction());
  pipeline::Verdict reject{pipeline::Disposition::reject, 550, "5.7.1", "DMARC policy of example.org says reject", "auth", "dmarc=fail", ""};
  EXPECT_EQ(s.finish(reject, s.message().get()).out, pkt('y', z("550 5.7.1 DMARC policy of example.org says reject")));
  feed(s, transaction());
  pipeline::Verdict temp;
  temp.disposition = pipeline::Disposition::tempfail;
  EXPECT_EQ(s.finish(temp, s.message().get()).out, pkt('y', z("451 4.7.1 Try again later")));
  feed(s, transaction());
  pipeline::Verdict discard;
  discard.disposition = pipeline::Disposition::discard;
  EXPECT_EQ(s.finish(discard, s.message().get()).out, pkt('d'));
  feed(s, transaction());
  pipeline::Verdict q;
  q.disposition = pipeline::Disposition::quarantine;
  q.filter = "rules";
  q.reason = "rule 7";
  auto f = s.finish(q, s.message().get());
  EXPECT_EQ(f.out, pkt('q', z("mailmoat rules: rule 7")) + pkt('c'));
  EXPECT_EQ(s.messages(), 4u);
}

TEST(MilterSession, ActionTheMtaDidNotGrantTempfails) {
  Session s(SessionConfig{});
  feed(s, pkt('O', u32(6) + u32(0x01) + u32(0x1fffff)));  // add headers only
  feed(s, transaction());
  pipeline::Verdict q;
  q.disposition = pipeline::Disposition::quarantine;
  auto f = s.finish(q, s.message().get());
  auto p = packets(f.out);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].command, 'y');
  EXPECT_NE(p[0].data.find("QUARANTINE"), std::string::npos);
}

TEST(MilterSession, AbortMidMessageStartsCleanAndMacrosDoNotLeak) {
  Session s = negotiated();
  std::string first = transaction();
  first.resize(first.find(pkt('N')));  // up to the headers
  feed(s, first + pkt('A'));
  auto f = feed(s, pkt('M', z("<carol@example.com>")) + pkt('R', z("<bob@example.net>")) +
                       pkt('L', z("From") + z(" carol@example.com")) + pkt('E'));
  ASSERT_EQ(f.action, Session::Action::end_of_message);
  auto ctx = s.message();
  EXPECT_EQ(ctx->envelope.sender, "carol@example.com");
  EXPECT_EQ(ctx->envelope.recipients.size(), 1u);
  EXPECT_EQ(ctx->mta_queue_id, "");  // the aborted message's "i" is gone
  EXPECT_EQ(ctx->message, "From: carol@example.com\r\n\r\n");
  EXPECT_EQ(ctx->connection.client_address, "192.0.2.10");  // the connection is the same
}

TEST(MilterSession, QuitNewConnectionForgetsTheClientQuitCloses) {
  Session s = negotiated();
  feed(s, transaction());
  s.finish(pipeline::Verdict::accept(), s.message().get());
  feed(s, pkt('K'));
  feed(s, pkt('C', z("other.example") + "4" + std::string("\0\x19", 2) + z("198.51.100.7")) + pkt('M', z("<>")) +
              pkt('E'));
  EXPECT_EQ(s.message()->connection.client_address, "198.51.100.7");
  EXPECT_EQ(s.message()->connection.helo, "");
  EXPECT_EQ(s.message()->connection.tls.active, false);
  EXPECT_EQ(feed(s, pkt('Q')).action, Session::Action::close);
}

TEST(MilterSession, ProtocolErrorsClose) {
  Session fresh(SessionConfig{});
  auto f = feed(fresh, pkt('C', z("h") + "U"));
  EXPECT_EQ(f.action, Session::Action::close);
  EXPECT_NE(f.error.find("before option negotiation"), std::string::npos);
  Session s = negotiated();
  f = feed(s, pkt('Z'));
  EXPECT_EQ(f.action, Session::Action::close);
  EXPECT_NE(f.error.find("unknown command"), std::string::npos);
  Session s2 = negotiated();
  EXPECT_EQ(feed(s2, pkt('L', "no-nul")).action, Session::Action::close);
}

TEST(MilterSession, UnknownCommandIsAcknowledgedWhenTheMtaWaits) {
  Session s(SessionConfig{});
  feed(s, pkt('O', u32(6) + u32(0x1ff) + u32(0)));
  EXPECT_EQ(feed(s, pkt('U', z("XYZZY"))).out, pkt('c'));
}

TEST(MilterSession, OversizedMessageIsFlaggedNotKept) {
  SessionConfig c;
  c.max_message_size = 64;
  Session s(c);
  feed(s, test::postfix_optneg());
  auto f = feed(s, pkt('M', z("<a@b>")) + pkt('B', std::string(100, 'x')) + pkt('E'));
  ASSERT_EQ(f.action, Session::Action::end_of_message);
  EXPECT_TRUE(s.too_big());
  EXPECT_TRUE(s.message()->message.empty());
}

}  // namespace
}  // namespace mailmoat::milter

namespace mailmoat::milter {
namespace {

// Replays what a real Postfix 3.7.11 sent (tests/milter/data/SOURCES.md) in
// 1000-byte reads, answering each end of message with accept.
TEST(MilterSession, RecordedPostfixSessionReplays) {
  std::ifstream in(std::string(MAILMOAT_SOURCE_DIR) + "/tests/milter/data/postfix-3.7.11-session.bin", std::ios::binary);
  std::string wire((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(wire.size(), 80000u);
  Session s(SessionConfig{});
  PacketReader reader;
  std::vector<std::shared_ptr<pipeline::MessageContext>> messages;
  std::string replies;
  bool closed = false;
  for (std::size_t at = 0; at < wire.size() && !closed; at += 1000) {
    reader.feed(std::string_view(wire).substr(at, 1000));
    while (auto p = reader.next()) {
      auto step = s.on_packet(*p);
      ASSERT_TRUE(step.error.empty()) << step.error;
      replies += step.out;
      if (step.action == Session::Action::end_of_message) {
        messages.push_back(std::make_shared<pipeline::MessageContext>(*s.message()));
        replies += s.finish(pipeline::Verdict::accept(), s.message().get()).out;
      }
      closed |= step.action == Session::Action::close;
    }
  }
  EXPECT_TRUE(closed);  // QUIT
  EXPECT_TRUE(reader.error().empty());
  // Postfix offered protocol 6 with every action; only the negotiation and two continues were answered.
  auto sent = packets(replies);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].command, 'O');
  EXPECT_EQ(sent[1].command, 'c');
  EXPECT_EQ(sent[2].command, 'c');
  ASSERT_EQ(messages.size(), 2u);
  const auto& first = *messages[0];
  EXPECT_EQ(first.connection.client_address, "127.0.0.1");
  EXPECT_EQ(first.connection.client_name, "localhost");
  EXPECT_EQ(first.connection.helo, "client.example.org");
  EXPECT_EQ(first.connection.role, "inbound");
  EXPECT_FALSE(first.connection.tls.active);
  EXPECT_EQ(first.envelope.sender, "alice@example.org");  // not the aborted transaction's
  ASSERT_EQ(first.envelope.recipients.size(), 2u);
  EXPECT_EQ(first.envelope.recipients[1].address, "carol@example.net");
  EXPECT_EQ(first.mta_queue_id, "159A9A766D0");
  EXPECT_EQ(first.message.substr(0, 77),
            "Authentication-Results: mx.example.net; spf=pass smtp.mailfrom=bank.example\r\n");
  EXPECT_NE(first.message.find("\r\nSubject: first\r\n  folded subject line\r\n"), std::string::npos);
  EXPECT_NE(first.message.find("\r\n\r\nline one\r\nline two\r\n"), std::string::npos);
  const auto& second = *messages[1];
  EXPECT_EQ(second.mta_queue_id, "26BEBA76662");
  EXPECT_EQ(second.envelope.recipients.size(), 1u);
  EXPECT_EQ(second.message.size() - second.message.find("\r\n\r\n") - 4, 1200u * 72u);
}

}  // namespace
}  // namespace mailmoat::milter
