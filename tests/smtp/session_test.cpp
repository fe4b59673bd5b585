#include "smtp/protocol/session.h"

#include <gtest/gtest.h>

namespace mailmoat::smtp {
namespace {

SessionConfig inbound() {
  SessionConfig c;
  c.hostname = "mx.test";
  c.accepted_domains = {"example.test"};
  return c;
}

int code(const Session::Step& s, std::size_t i = 0) { return s.replies.size() > i ? s.replies[i].code : 0; }

}  // namespace

TEST(Session, HappyPathWithData) {
  Session s(inbound());
  EXPECT_EQ(s.greeting().code, 220);
  auto ehlo = s.on_line("EHLO client.test");
  ASSERT_EQ(code(ehlo), 250);
  std::string wire = ehlo.replies[0].wire();
  for (const char* ext : {"PIPELINING", "SIZE", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "CHUNKING"})
    EXPECT_NE(wire.find(ext), std::string::npos) << ext;
  EXPECT_EQ(wire.find("STARTTLS"), std::string::npos);
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@sender.test>")), 250);
  EXPECT_EQ(code(s.on_line("RCPT TO:<u@example.test>")), 250);
  auto data = s.on_line("DATA");
  EXPECT_EQ(code(data), 354);
  EXPECT_EQ(data.action, Session::Action::read_data);
  s.content().consume("Subject: hi\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(s.content_complete().action, Session::Action::end_of_message);
  EXPECT_EQ(s.transaction().recipients.size(), 1u);
  EXPECT_EQ(code(s.message_done(Reply(250, "2.0.0", "queued as X"))), 250);
  EXPECT_EQ(code(s.on_line("RCPT TO:<u@example.test>")), 503);  // transaction was reset
}

TEST(Session, InboundRefusesOtherDomainsEvenFromTrustedNetworks) {
  auto cfg = inbound();
  cfg.client_may_relay = true;
  Session s(cfg);
  s.on_line("EHLO c");
  s.on_line("MAIL FROM:<a@sender.test>");
  auto r = s.on_line("RCPT TO:<u@elsewhere.test>");
  EXPECT_EQ(code(r), 554);
  EXPECT_EQ(r.replies[0].enhanced, "5.7.1");
  EXPECT_EQ(code(s.on_line("RCPT TO:<postmaster>")), 250);
}

TEST(Session, RelayRoleNeedsATrustedClient) {
  SessionConfig cfg = inbound();
  cfg.role = Role::relay;
  Session untrusted(cfg);
  untrusted.on_line("EHLO c");
  untrusted.on_line("MAIL FROM:<a@example.test>");
  EXPECT_EQ(code(untrusted.on_line("RCPT TO:<u@anywhere.test>")), 554);
  cfg.client_may_relay = true;
  Session trusted(cfg);
  trusted.on_line("EHLO c");
  trusted.on_line("MAIL FROM:<a@example.test>");
  EXPECT_EQ(code(trusted.on_line("RCPT TO:<u@anywhere.test>")), 250);
}

TEST(Session, CommandOrderIsEnforced) {
  Session s(inbound());
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@b.test>")), 503);
  s.on_line("HELO c");
  EXPECT_EQ(code(s.on_line("RCPT TO:<u@example.test>")), 503);
  EXPECT_EQ(code(s.on_line("DATA")), 503);
  s.on_line("MAIL FROM:<a@b.test>");
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@b.test>")), 503);
  EXPECT_EQ(code(s.on_line("DATA")), 554);
}

TEST(Session, TooManyRecipientsIs452) {
  auto cfg = inbound();
  cfg.max_recipients = 2;
  Session s(cfg);
  s.on_line("EHLO c");
  s.on_line("MAIL FROM:<a@b.test>");
  EXPECT_EQ(code(s.on_line("RCPT TO:<1@example.test>")), 250);
  EXPECT_EQ(code(s.on_line("RCPT TO:<2@example.test>")), 250);
  auto third = s.on_line("RCPT TO:<3@example.test>");
  EXPECT_EQ(code(third), 452);
  EXPECT_EQ(third.replies[0].enhanced, "4.5.3");
}

TEST(Session, DeclaredSizeOverLimitIsRefusedAtMail) {
  auto cfg = inbound();
  cfg.content.max_message_size = 1000;
  Session s(cfg);
  s.on_line("EHLO c");
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@b.test> SIZE=1001")), 552);
}

TEST(Session, ClientThatKeepsErringIsDisconnected) {
  auto cfg = inbound();
  cfg.max_errors = 3;
  Session s(cfg);
  s.on_line("FOO");
  s.on_line("BAR");
  auto last = s.on_line("BAZ");
  EXPECT_EQ(last.action, Session::Action::close);
  EXPECT_EQ(last.replies.back().code, 421);
}

TEST(Session, BdatChunksThenLast) {
  Session s(inbound());
  s.on_line("EHLO c");
  s.on_line("MAIL FROM:<a@b.test>");
  s.on_line("RCPT TO:<u@example.test>");
  auto b1 = s.on_line("BDAT 14");
  ASSERT_EQ(b1.action, Session::Action::read_bdat);
  EXPECT_EQ(s.bdat_size(), 14u);
  s.content().consume("Subject: x\r\n\r\n");
  EXPECT_EQ(code(s.chunk_received()), 250);
  EXPECT_EQ(code(s.on_line("DATA")), 503);  // only BDAT/RSET/NOOP/QUIT between chunks
  s.on_line("BDAT 6 LAST");
  s.content().consume("body\r\n");
  EXPECT_EQ(s.chunk_received().action, Session::Action::end_of_message);
}

TEST(Session, BdatWithoutRecipientsIsReadAndRefused) {
  Session s(inbound());
  s.on_line("EHLO c");
  auto b = s.on_line("BDAT 3 LAST");
  ASSERT_EQ(b.action, Session::Action::read_bdat);
  s.content().consume("abc");
  EXPECT_EQ(code(s.chunk_received()), 503);
}

TEST(Session, StarttlsResetsTheSession) {
  auto cfg = inbound();
  cfg.starttls_available = true;
  Session s(cfg);
  auto ehlo = s.on_line("EHLO c");
  EXPECT_NE(ehlo.replies[0].wire().find("STARTTLS"), std::string::npos);
  auto st = s.on_line("STARTTLS");
  EXPECT_EQ(code(st), 220);
  EXPECT_EQ(st.action, Session::Action::start_tls);
  s.tls_started();
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@b.test>")), 503);  // EHLO must be sent again
  auto again = s.on_line("EHLO c");
  EXPECT_EQ(again.replies[0].wire().find("STARTTLS"), std::string::npos);
  // Not advertised, and refused, until delivery can honour it (RFC 8689).
  EXPECT_EQ(again.replies[0].wire().find("REQUIRETLS"), std::string::npos);
  EXPECT_EQ(code(s.on_line("MAIL FROM:<a@b.test> REQUIRETLS")), 555);
}

TEST(Session, VrfyIs252AndQuitCloses) {
  Session s(inbound());
  EXPECT_EQ(code(s.on_line("VRFY root")), 252);
  auto q = s.on_line("QUIT");
  EXPECT_EQ(code(q), 221);
  EXPECT_EQ(q.action, Session::Action::close);
}

}  // namespace mailmoat::smtp

namespace mailmoat::smtp {

TEST(RecipientList, AddressesAndDomainsCaseInsensitive) {
  auto l = RecipientList::parse("# staff\nAlice@Example.test\n@lists.example.test  # everything there\n\n");
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->contains("alice@example.TEST"));
  EXPECT_TRUE(l->contains("any@lists.example.test"));
  EXPECT_FALSE(l->contains("bob@example.test"));
  auto bad = RecipientList::parse("ok@example.test\nnot an address\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.substr(0, 2), "2:");
}

TEST(Session, InboundRecipientListRefusesUnknownUsers) {
  SessionConfig cfg;
  cfg.accepted_domains = {"example.test"};
  cfg.recipients = std::make_shared<const RecipientList>(*RecipientList::parse("alice@example.test\n"));
  Session s(cfg);
  s.on_line("EHLO c");
  s.on_line("MAIL FROM:<a@b.test>");
  EXPECT_EQ(s.on_line("RCPT TO:<alice@example.test>").replies[0].code, 250);
  auto r = s.on_line("RCPT TO:<mallory@example.test>");
  EXPECT_EQ(r.replies[0].code, 550);
  EXPECT_EQ(r.replies[0].enhanced, "5.1.1");
  EXPECT_EQ(s.on_line("RCPT TO:<x@elsewhere.test>").replies[0].enhanced, "5.7.1");
}

}  // namespace mailmoat::smtp

namespace mailmoat::smtp {

TEST(Session, BlockedSendersAreRefusedAtMail) {
  auto cfg = inbound();
  cfg.blocked_senders = {"spam.test", "bad@ok.test"};
  Session s(cfg);
  s.on_line("EHLO c");
  auto refused = s.on_line("MAIL FROM:<x@Mail.Spam.Test>");
  ASSERT_EQ(code(refused), 550);
  EXPECT_EQ(refused.replies[0].wire(), "550 5.7.1 Sender address rejected: on the block list\r\n");
  EXPECT_EQ(code(s.on_line("RCPT TO:<u@example.test>")), 503);  // no transaction was started
  EXPECT_EQ(code(s.on_line("MAIL FROM:<bad@ok.test>")), 550);
  EXPECT_EQ(code(s.on_line("MAIL FROM:<good@ok.test>")), 250);
  Session bounce(cfg);
  bounce.on_line("EHLO c");
  EXPECT_EQ(code(bounce.on_line("MAIL FROM:<>")), 250);  // the null sender is never on a list
}

}  // namespace mailmoat::smtp
