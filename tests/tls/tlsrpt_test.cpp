// TLS-RPT policy record (RFC 8460 §3) and aggregate report JSON (§4, §5.3).
#include <gtest/gtest.h>

#include "tls/tlsrpt_record.h"
#include "tls/tlsrpt_report.h"

namespace mailmoat::tls {
namespace {

TEST(TlsRptRecord, MailtoAndHttpsDestinations) {
  auto r = parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:tls%2Breports@example.com?subject=x, https://reports.example.com/tlsrpt");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->mailto.size(), 1u);
  EXPECT_EQ(r->mailto[0], "tls+reports@example.com");
  ASSERT_EQ(r->https.size(), 1u);
  EXPECT_EQ(r->https[0], "https://reports.example.com/tlsrpt");
}

TEST(TlsRptRecord, MalformedRecordsAreRefusedWithTheReason) {
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv2; rua=mailto:a@example.com").error().message, "not a v=TLSRPTv1 record");
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1").error().message, "no rua field");
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; ext=1").error().message, "no rua field");
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=http://x.example.com/").error().message, "no usable rua destination");
  EXPECT_EQ(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com").error().message,
            "more than one rua field");
  EXPECT_TRUE(parse_tlsrpt_record("v=TLSRPTv1;rua=mailto:a@example.com;"));
  EXPECT_TRUE(parse_tlsrpt_record("v=TLSRPTv1; rua=mailto:a@example.com; ext=value"));
}

TEST(TlsRptRecord, ExactlyOneVersionedRecordAmongTheTxtStrings) {
  EXPECT_TRUE(select_tlsrpt_record({"spf stuff", "v=TLSRPTv1; rua=mailto:a@example.com"}));
  EXPECT_FALSE(select_tlsrpt_record({"v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"}));
  EXPECT_FALSE(select_tlsrpt_record({"v=spf1 -all"}));
}

TEST(TlsRptReport, CountsPerPolicyWithFailureDetails) {
  std::vector<TlsRptResult> rows{
      {"example.net", "tlsa", "3 1 1 abcd", "", "", "192.0.2.1", "mx.example.net", "198.51.100.2", "", 3},
      {"example.net", "tlsa", "3 1 1 abcd", "", "validation-failure", "192.0.2.1", "mx.example.net", "198.51.100.2",
       "no TLSA record matched", 2},
      {"other.example", "no-policy-found", "", "", "", "", "", "", "", 7},
  };
  std::string json = tlsrpt_json({"mailmoat.example", "tlsrpt@mailmoat.example", "r1", 20420}, "example.net", rows);
  EXPECT_NE(json.find("\"start-datetime\": \"2025-11-28T00:00:00Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"end-datetime\": \"2025-11-28T23:59:59Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"policy-type\": \"tlsa\", \"policy-string\": [\"3 1 1 abcd\"]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"total-successful-session-count\": 3, \"total-failure-session-count\": 2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"result-type\": \"validation-failure\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"failed-session-count\": 2"), std::string::npos) << json;
  EXPECT_EQ(json.find("other.example"), std::string::npos) << json;
  EXPECT_EQ(tlsrpt_filename("mailmoat.example", "example.net", 20420, "r1"),
            "mailmoat.example!example.net!1764288000!1764374399!r1.json.gz");
}

}  // namespace
}  // namespace mailmoat::tls
