// STARTTLS on an inbound listener with a certificate from a throw-away CA:
// the handshake, TLS facts in the Received field, and no command injection.
#include <gtest/gtest.h>

#include <cstdlib>

#include "harness.h"

namespace mailmoat::testing {

namespace {
// A CA and a server certificate for mx.test, made with the openssl command.
bool make_certs(const TempDir& d) {
  std::string cmd = "cd " + d.path() +
                    " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=TestCA "
                    "2>/dev/null && openssl req -newkey rsa:2048 -nodes -keyout mx.key -out mx.csr -subj /CN=mx.test "
                    "2>/dev/null && printf 'subjectAltName=DNS:mx.test' > ext && openssl x509 -req -in mx.csr -CA ca.pem "
                    "-CAkey ca.key -CAcreateserial -out mx.pem -days 2 -extfile ext 2>/dev/null";
  return std::system(cmd.c_str()) == 0;
}
}  // namespace

TEST(Tls, StarttlsDiscardsPipelinedInjectionAndResetsTheSession) {
  TempDir d;
  ASSERT_TRUE(make_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  std::string smtp = gw.smtp_address();
  std::string cmd = "/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) +
                    "/tests/integration/scripts/starttls_injection.py 127.0.0.1 " + smtp.substr(smtp.rfind(':') + 1) +
                    " " + d.file("ca.pem");
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(Tls, MessageOverTlsRecordsVersionAndCipher) {
  TempDir d;
  ASSERT_TRUE(make_certs(d));
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.tls_cert=" + d.file("mx.pem"), "smtp.listener.0.tls_key=" + d.file("mx.key")}))
      << gw.log();
  std::string smtp = gw.smtp_address();
  auto r = std::system(("swaks --server " + smtp + " --tls --to u@localhost --from a@sender.test >" + d.file("swaks.log") +
                        " 2>&1").c_str());
  ASSERT_EQ(r, 0);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("with ESMTPS id"), std::string::npos) << mail[0];
  EXPECT_NE(mail[0].find("(using TLSv1.3 with cipher TLS_"), std::string::npos) << mail[0];
}

TEST(Tls, SwaksExtensionsInterop) {
  Gateway gw;
  ASSERT_TRUE(gw.start()) << gw.log();
  TempDir d;
  std::string smtp = gw.smtp_address();
  // Pipelining (RFC 2920) and an 8-bit body.
  std::string cmd = "swaks --server " + smtp + " --pipeline --to u@localhost --from a@sender.test --body 'caf\xc3\xa9' >" +
                    d.file("swaks.log") + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(mail[0].find("caf\xc3\xa9"), std::string::npos);
}

}  // namespace mailmoat::testing
