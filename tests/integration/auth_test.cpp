// The auth filter through the real SMTP path, with a real unbound serving the
// test zones: SPF/DKIM/DMARC/iprev in Authentication-Results, forged results
// removed, DMARC p=reject refused at end of DATA, p=quarantine quarantined.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "unbound_process.h"

namespace mailmoat::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A DKIM key made by openssl, its TXT record as unbound local-data (split in 255-byte strings).
struct DkimKey {
  std::string private_pem_path;
  std::string local_data;
};

DkimKey make_key(const TempDir& d, const std::string& name) {
  std::string cmd = "cd " + d.path() + " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.key 2>/dev/null"
                    " && openssl pkey -in dkim.key -pubout -outform DER 2>/dev/null | base64 -w0 > dkim.pub";
  if (std::system(cmd.c_str()) != 0) return {};
  std::string p = slurp(d.file("dkim.pub"));
  std::string record = "v=DKIM1; k=rsa; p=" + p;
  std::string quoted;
  for (std::size_t i = 0; i < record.size(); i += 255) quoted += "\"" + record.substr(i, 255) + "\" ";
  return {d.file("dkim.key"), "  local-data: '" + name + " TXT " + quoted + "'\n"};
}

std::string zone_lines(const std::string& extra) {
  return "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
         "  local-data: 'example.com. TXT \"v=spf1 ip4:127.0.0.1 -all\"'\n"
         "  local-data: '_dmarc.example.com. TXT \"v=DMARC1; p=reject\"'\n"
         "  local-data: 'strict.example.net. TXT \"v=spf1 -all\"'\n"
         "  local-data: '_dmarc.strict.example.net. TXT \"v=DMARC1; p=reject\"'\n"
         "  local-data: 'soft.example.net. TXT \"v=spf1 -all\"'\n"
         "  local-data: '_dmarc.soft.example.net. TXT \"v=DMARC1; p=quarantine\"'\n"
         "  local-data: '1.0.0.127.in-addr.arpa. PTR mx.example.com.'\n"
         "  local-data: 'mx.example.com. A 127.0.0.1'\n" +
         extra;
}

std::vector<std::string> with_dns(int port) {
  return {"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(port) + "\"]",
          "auth.authserv_id=mx.mailmoat.test", "smtp.accepted_domains=[\"localhost\"]"};
}

std::string header_of(const std::string& mail) { return mail.substr(0, mail.find("\n\n")); }

}  // namespace

TEST(Auth, SpfAndDmarcPassWithIprevAndReceivedSpf) {
  test_support::UnboundProcess dns("auth-pass");
  ASSERT_TRUE(dns.start(zone_lines("")));
  Gateway gw;
  ASSERT_TRUE(gw.start(with_dns(dns.port()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("alice@example.com", {"u@localhost"},
                                      "From: Alice <alice@example.com>\r\nTo: u@localhost\r\nSubject: hi\r\n\r\nhello\r\n")),
            250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string h = header_of(mail[0]);
  EXPECT_NE(h.find("Authentication-Results: mx.mailmoat.test;"), std::string::npos) << h;
  EXPECT_NE(h.find("spf=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("smtp.mailfrom=alice@example.com"), std::string::npos) << h;
  EXPECT_NE(h.find("dmarc=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("header.from=example.com"), std::string::npos) << h;
  EXPECT_NE(h.find("iprev=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("Received-SPF: pass"), std::string::npos) << h;
}

TEST(Auth, ForgedResultsWithOurAuthservIdAreRemovedOthersKept) {
  test_support::UnboundProcess dns("auth-forged");
  ASSERT_TRUE(dns.start(zone_lines("")));
  Gateway gw;
  ASSERT_TRUE(gw.start(with_dns(dns.port()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string msg =
      "Authentication-Results: mx.mailmoat.test; dmarc=pass header.from=bank.example\r\n"
      "Authentication-Results: MX.MAILMOAT.TEST;\r\n\tspf=pass smtp.mailfrom=bank.example\r\n"
      "Authentication-Results: other.example; spf=fail\r\n"
      "From: alice@example.com\r\nSubject: forged\r\n\r\nbody\r\n";
  ASSERT_EQ(reply_code(c.send_message("alice@example.com", {"u@localhost"}, msg)), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string h = header_of(mail[0]);
  EXPECT_EQ(h.find("bank.example"), std::string::npos) << h;
  EXPECT_NE(h.find("Authentication-Results: other.example; spf=fail"), std::string::npos) << h;
  // Exactly one field with our authserv-id: ours.
  std::size_t first = h.find("Authentication-Results: mx.mailmoat.test");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(h.find("Authentication-Results: mx.mailmoat.test", first + 1), std::string::npos);
}

TEST(Auth, DmarcRejectIsRefusedAtEndOfData) {
  test_support::UnboundProcess dns("auth-reject");
  ASSERT_TRUE(dns.start(zone_lines("")));
  Gateway gw;
  ASSERT_TRUE(gw.start(with_dns(dns.port()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("ceo@strict.example.net", {"u@localhost"},
                                 "From: ceo@strict.example.net\r\nSubject: wire money\r\n\r\nnow\r\n");
  EXPECT_EQ(r.substr(0, 9), "550 5.7.1") << r;
  EXPECT_NE(r.find("DMARC"), std::string::npos) << r;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
  // What the aggregate report will need was kept in the store.
  std::string q = "/usr/bin/python3 -c \"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                  "print(c.execute('select header_from, disposition, dmarc_spf, count from dmarc_rows').fetchall())\" " +
                  gw.data_dir() + "/var/mailmoat.db > " + gw.data_dir() + "/rows.txt";
  ASSERT_EQ(std::system(q.c_str()), 0);
  std::ifstream rows(gw.data_dir() + "/rows.txt");
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line, "[('strict.example.net', 'reject', 'fail', 1)]");
}

TEST(Auth, DmarcRejectCanBeQuarantinedOrMarkedInstead) {
  test_support::UnboundProcess dns("auth-policy");
  ASSERT_TRUE(dns.start(zone_lines("")));
  auto opts = with_dns(dns.port());
  opts.push_back("auth.dmarc_on_reject=deliver_as_spam");
  Gateway gw;
  ASSERT_TRUE(gw.start(opts)) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("ceo@strict.example.net", {"u@localhost"},
                                      "From: ceo@strict.example.net\r\nSubject: x\r\n\r\nbody\r\n")),
            250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("X-Mailmoat-SCL: 6"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("dmarc=fail"), std::string::npos);
}

TEST(Auth, LocalAllowListOverridesADmarcFailure) {
  test_support::UnboundProcess dns("auth-allow");
  ASSERT_TRUE(dns.start(zone_lines("")));
  auto opts = with_dns(dns.port());
  opts.push_back("auth.dmarc_allow_domains=[\"example.net\"]");
  Gateway gw;
  ASSERT_TRUE(gw.start(opts)) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("ceo@strict.example.net", {"u@localhost"},
                                      "From: ceo@strict.example.net\r\nSubject: x\r\n\r\nbody\r\n")),
            250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("dmarc=fail"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("local_policy"), std::string::npos) << mail[0];
}

TEST(Auth, DmarcQuarantineQuarantinesTheMessage) {
  test_support::UnboundProcess dns("auth-quarantine");
  ASSERT_TRUE(dns.start(zone_lines("")));
  Gateway gw;
  ASSERT_TRUE(gw.start(with_dns(dns.port()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  std::string r = c.send_message("x@soft.example.net", {"u@localhost"}, "From: x@soft.example.net\r\nSubject: q\r\n\r\nb\r\n");
  ASSERT_EQ(reply_code(r), 250) << r;
  std::string out;
  for (int i = 0; i < 50 && out.find("spoof") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    out = run({"quarantine", "list", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
               "http.listen=" + gw.http_address()}).out;
  }
  EXPECT_NE(out.find("spoof"), std::string::npos) << out;
  EXPECT_TRUE(mailbox(gw.data_dir(), "u@localhost").empty());
}

TEST(Auth, DkimSignatureFromDkimpyVerifiesAndAligns) {
  TempDir d;
  DkimKey key = make_key(d, "sel._domainkey.example.com.");
  ASSERT_FALSE(key.local_data.empty());
  test_support::UnboundProcess dns("auth-dkim");
  ASSERT_TRUE(dns.start(zone_lines(key.local_data)));
  d.write("msg.eml", "From: alice@example.com\r\nTo: u@localhost\r\nSubject: signed\r\n\r\nsigned body\r\n");
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/dkim_sign.py " +
                    key.private_pem_path + " example.com sel < " + d.file("msg.eml") + " > " + d.file("signed.eml");
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  Gateway gw;
  ASSERT_TRUE(gw.start(with_dns(dns.port()))) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  // A different envelope domain: DMARC passes through DKIM alone.
  ASSERT_EQ(reply_code(c.send_message("bounce@other.example.org", {"u@localhost"}, slurp(d.file("signed.eml")))), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string h = header_of(mail[0]);
  EXPECT_NE(h.find("dkim=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("header.d=example.com"), std::string::npos) << h;
  EXPECT_NE(h.find("dmarc=pass"), std::string::npos) << h;
}

}  // namespace mailmoat::testing
