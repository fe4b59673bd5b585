// DMARC aggregate reports through the real gateway and a real unbound: mail
// from two domains is authenticated and recorded; a report run (triggered by
// `mailmoat dmarc report`) queues one gzip-compressed RFC 9990 report per
// domain to its verified rua, and skips an external rua that does not confirm
// (RFC 7489 §7.1). The report is decompressed and parsed here.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "harness.h"
#include "unbound_process.h"

namespace mailmoat::testing {

namespace {

CommandResult cli(const Gateway& gw, std::vector<std::string> args) {
  for (const auto& a : {std::string("--set"), "server.data_dir=" + gw.data_dir() + "/var", std::string("--set"),
                        "http.listen=" + gw.http_address()})
    args.push_back(a);
  return run(args);
}

}  // namespace

TEST(DmarcReports, DailyRunSendsCompressedReportsToVerifiedRuaOnly) {
  test_support::UnboundProcess dns("dmarc-reports");
  ASSERT_TRUE(dns.start(
      "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
      "  local-data: 'example.org. TXT \"v=spf1 ip4:127.0.0.1 -all\"'\n"
      "  local-data: '_dmarc.example.org. TXT \"v=DMARC1; p=none; rua=mailto:dmarc@reports.example.com\"'\n"
      "  local-data: 'example.org._report._dmarc.reports.example.com. TXT \"v=DMARC1\"'\n"
      "  local-data: 'example.net. TXT \"v=spf1 -all\"'\n"
      "  local-data: '_dmarc.example.net. TXT \"v=DMARC1; p=none; rua=mailto:agg@reports.example.com\"'\n"));
  Gateway gw;
  ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns.port()) + "\"]",
                        "dmarc_reports.enabled=true", "dmarc_reports.from=\"dmarc-reports@mx.example\"",
                        "dmarc_reports.org_name=\"mx.example\"",
                        "route.0.domains=[\"localhost\", \"reports.example.com\"]"}))
      << gw.log();
  for (const char* from : {"alice@example.org", "bob@example.org", "carol@example.net"}) {
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    ASSERT_EQ(reply_code(c.send_message(from, {"u@localhost"},
                                        std::string("From: ") + from + "\r\nSubject: r\r\n\r\nbody\r\n")),
              250);
  }
  ASSERT_EQ(wait_for_mail(gw.data_dir(), "u@localhost", 3).size(), 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the rows are written on their own thread

  auto r = cli(gw, {"dmarc", "report", "--today"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("example.org  sent"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("example.net  skipped"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("example.net._report._dmarc.reports.example.com"), std::string::npos) << r.out;

  auto mail = wait_for_mail(gw.data_dir(), "dmarc@reports.example.com", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("Subject: Report Domain: example.org Submitter: mx.example Report-ID: <"), std::string::npos)
      << mail[0];
  EXPECT_NE(mail[0].find("Content-Type: application/gzip"), std::string::npos);
  EXPECT_TRUE(mailbox(gw.data_dir(), "agg@reports.example.com").empty());

  // Decode the attachment and read the XML with Python's standard library.
  const std::string eml = gw.data_dir() + "/report.eml";
  std::ofstream(eml, std::ios::binary) << mail[0];
  const std::string script =
      "import email,gzip,sys,xml.etree.ElementTree as ET\n"
      "m=email.message_from_binary_file(open(sys.argv[1],'rb'))\n"
      "part=[p for p in m.walk() if p.get_content_type()=='application/gzip'][0]\n"
      "assert part.get_filename().startswith('mx.example!example.org!'), part.get_filename()\n"
      "root=ET.fromstring(gzip.decompress(part.get_payload(decode=True)))\n"
      "ns={'d':'urn:ietf:params:xml:ns:dmarc-2.0'}\n"
      "assert root.find('d:policy_published/d:domain',ns).text=='example.org'\n"
      "counts=sum(int(r.find('d:row/d:count',ns).text) for r in root.findall('d:record',ns))\n"
      "assert counts==2, counts\n"
      "assert root.find('d:record/d:row/d:policy_evaluated/d:spf',ns).text=='pass'\n"
      "assert root.find('d:record/d:identifiers/d:header_from',ns).text=='example.org'\n"
      "print('ok')\n";
  std::ofstream(gw.data_dir() + "/check.py") << script;
  const std::string out = gw.data_dir() + "/check.out";
  int rc = std::system(("python3 " + gw.data_dir() + "/check.py " + eml + " > " + out + " 2>&1").c_str());
  std::ifstream result(out);
  std::string text((std::istreambuf_iterator<char>(result)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("ok"), std::string::npos) << text;

  // A second run for the same day sends nothing again.
  auto again = cli(gw, {"dmarc", "report", "--today"});
  EXPECT_NE(again.out.find("already sent"), std::string::npos) << again.out;
}

}  // namespace mailmoat::testing
