#include <gtest/gtest.h>

#include "milter/protocol.h"
#include "packets.h"

namespace mailmoat::milter {
namespace {

using test::pkt;
using test::u32;
using test::z;

TEST(MilterCodec, PacketsSplitFromAStreamFedByteByByte) {
  std::string wire = test::postfix_optneg() + pkt('D', "C" + z("{client_addr}") + z("192.0.2.1")) + pkt('T');
  PacketReader r;
  std::vector<Packet> got;
  for (char c : wire) {
    r.feed(std::string_view(&c, 1));
    while (auto p = r.next()) got.push_back(*p);
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].command, 'O');
  EXPECT_EQ(got[0].data.size(), 12u);
  EXPECT_EQ(got[1].command, 'D');
  EXPECT_EQ(got[2].command, 'T');
  EXPECT_TRUE(got[2].data.empty());
  EXPECT_TRUE(r.error().empty());
}

TEST(MilterCodec, OversizedOrEmptyPacketIsAnErrorNotAnAllocation) {
  PacketReader big(1024);
  big.feed(u32(0x7fffffff) + "B");
  EXPECT_FALSE(big.next());
  EXPECT_NE(big.error().find("over the limit"), std::string::npos);
  PacketReader empty;
  empty.feed(u32(0));
  EXPECT_FALSE(empty.next());
  EXPECT_NE(empty.error().find("length 0"), std::string::npos);
}

TEST(MilterCodec, OptionNegotiationDecoded) {
  std::string why;
  auto o = parse_optneg(u32(6) + u32(0x1ff) + u32(0x1fffff), why);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->version, 6u);
  EXPECT_EQ(o->actions, 0x1ffu);
  EXPECT_EQ(o->protocol, 0x1fffffu);
  EXPECT_FALSE(parse_optneg("\0\0\0\6", why));
  EXPECT_FALSE(why.empty());
}

TEST(MilterCodec, ConnectIPv4IPv6AndUnknown) {
  std::string why;
  auto c = parse_connect(z("mail.example.org") + "4" + std::string("\x1f\x90", 2) + z("192.0.2.1"), why);
  ASSERT_TRUE(c) << why;
  EXPECT_EQ(c->hostname, "mail.example.org");
  EXPECT_EQ(c->family, '4');
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->address, "192.0.2.1");
  auto c6 = parse_connect(z("unknown") + "6" + std::string("\0\x19", 2) + z("IPv6:2001:db8::1"), why);
  ASSERT_TRUE(c6) << why;
  EXPECT_EQ(c6->address, "2001:db8::1");
  auto cu = parse_connect(z("localhost") + "U", why);
  ASSERT_TRUE(cu) << why;
  EXPECT_EQ(cu->family, 'U');
  EXPECT_FALSE(parse_connect(z("host") + "4" + "\x00", why));
  EXPECT_FALSE(parse_connect(z("host") + "X" + std::string("\0\x19", 2) + z("1.2.3.4"), why));
}

TEST(MilterCodec, MacrosHeaderAndStrings) {
  std::string why;
  auto m = parse_macros("C" + z("{client_addr}") + z("192.0.2.1") + z("j") + z("mx.test"), why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->first, 'C');
  ASSERT_EQ(m->second.size(), 2u);
  EXPECT_EQ(m->second[1], (std::pair<std::string, std::string>{"j", "mx.test"}));
  EXPECT_FALSE(parse_macros("C" + z("{client_addr}"), why));  // a name without a value
  auto h = parse_header(z("Subject") + z(" hello\n\tworld"), why);
  ASSERT_TRUE(h) << why;
  EXPECT_EQ(h->name, "Subject");
  EXPECT_EQ(h->value, " hello\n\tworld");
  EXPECT_FALSE(parse_header(z("Subject"), why));
  EXPECT_FALSE(parse_header("Subject", why));
  auto s = parse_strings(z("<a@example.org>") + z("BODY=8BITMIME"), why);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->size(), 2u);
  EXPECT_FALSE(parse_strings("no terminator", why));
}

TEST(MilterCodec, ReplyEncodersProduceTheWireBytes) {
  EXPECT_EQ(encode(reply::cont), u32(1) + "c");
  EXPECT_EQ(encode_replycode(550, "5.7.1", "Not 100% sure\r\n250 ok"), pkt('y', z("550 5.7.1 Not 100%% sure250 ok")));
  EXPECT_EQ(encode_insert_header(0, "Authentication-Results", " mx; spf=pass"),
            pkt('i', u32(0) + z("Authentication-Results") + z(" mx; spf=pass")));
  EXPECT_EQ(encode_change_header(2, "Authentication-Results", ""),
            pkt('m', u32(2) + z("Authentication-Results") + z("")));
  EXPECT_EQ(encode_add_header("X-A", "b"), pkt('h', z("X-A") + z("b")));
  EXPECT_EQ(encode_quarantine("rule 7"), pkt('q', z("rule 7")));
  EXPECT_EQ(encode_add_rcpt("b@example.org"), pkt('+', z("<b@example.org>")));
  EXPECT_EQ(encode_del_rcpt("b@example.org"), pkt('-', z("<b@example.org>")));
  EXPECT_EQ(encode_change_from("s@example.org", "SIZE=10"), pkt('e', z("<s@example.org>") + z("SIZE=10")));
  EXPECT_EQ(encode_optneg({6, 0x1ff, 0x100000}, {{MacroStage::eom, "i"}}),
            pkt('O', u32(6) + u32(0x1ff) + u32(0x100000) + u32(5) + z("i")));
}

TEST(MilterCodec, BodyReplacementInChunksOfAtMost65535) {
  std::string body(70000, 'x');
  auto packets = encode_replace_body(body);
  ASSERT_EQ(packets.size(), 2u);
  EXPECT_EQ(packets[0], pkt('b', std::string(65535, 'x')));
  EXPECT_EQ(packets[1], pkt('b', std::string(70000 - 65535, 'x')));
  EXPECT_EQ(encode_replace_body("").size(), 1u);
}

TEST(MilterCodec, CommandNames) {
  EXPECT_EQ(command_name('E'), "end-of-message");
  EXPECT_EQ(command_name('K'), "quit-new-connection");
  EXPECT_EQ(command_name('\x7f'), "0x7f");
}

}  // namespace
}  // namespace mailmoat::milter
