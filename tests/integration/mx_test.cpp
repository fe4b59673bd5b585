// Delivery by MX lookup through a real unbound: the MX host gets the message;
// a null MX (RFC 7505) and a domain that does not exist bounce at once.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "harness.h"
#include "unbound_process.h"

namespace mailmoat::testing {

TEST(MxDelivery, DeliversToTheMxHostAndBouncesNullMxAndUnknownDomains) {
  // The MX host listens on port 25 of another loopback address (tests run as root).
  test_support::UnboundProcess dns("mx");
  ASSERT_TRUE(dns.start("  module-config: \"iterator\"\n  local-zone: \".\" static\n"
                        "  local-data: 'example.org. MX 10 mx.example.org.'\n"
                        "  local-data: 'mx.example.org. A 127.0.0.2'\n"
                        "  local-data: 'nullmx.example.org. MX 0 .'\n"));
  Process mx_sink;
  TempDir dump;
  chmod(dump.path().c_str(), 01777);
  mx_sink.start({"smtp-sink", "-u", "nobody", "-d", dump.path() + "/%H%M%S.", "127.0.0.2:25", "100"});
  ASSERT_TRUE(wait_for_port("127.0.0.2:25"));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "dns.zone_files=[]",
                        "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns.port()) + "\"]", "auth.dmarc=false",
                        "queue.retry_base_seconds=1"}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("a@localhost", {"r@example.org", "n@nullmx.example.org", "x@nowhere.example.org"},
                                      "From: a@localhost\r\nSubject: mx\r\n\r\nbody\r\n")),
            250);
  // The bounce for the two undeliverable recipients comes back to a@localhost.
  auto dsn = wait_for_mail(gw.data_dir(), "a@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(dsn.size(), 1u) << gw.log();
  EXPECT_NE(dsn[0].find("Final-Recipient: rfc822; n@nullmx.example.org"), std::string::npos) << dsn[0];
  EXPECT_NE(dsn[0].find("Status: 5.1.10"), std::string::npos) << dsn[0];
  EXPECT_NE(dsn[0].find("Final-Recipient: rfc822; x@nowhere.example.org"), std::string::npos);
  EXPECT_NE(dsn[0].find("Status: 5.1.2"), std::string::npos);
  EXPECT_EQ(dsn[0].find("Final-Recipient: rfc822; r@example.org"), std::string::npos);
  EXPECT_NE(gw.log().find("to=r@example.org remote=mx.example.org[127.0.0.2]:25 status=delivered"), std::string::npos)
      << gw.log();
}

}  // namespace mailmoat::testing
