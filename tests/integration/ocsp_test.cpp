// OCSP stapling (RFC 6066 §8) on the STARTTLS listener: a response made by
// `openssl ocsp` from the test CA is stapled when `openssl s_client -status`
// asks for it, not otherwise; a fresh response file is picked up on SIGHUP; a
// response saying "revoked" is refused at start and on reload.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <cstdio>
#include <thread>

#include "harness.h"
#include "tls_certs.h"

namespace mailmoat::testing {
namespace {

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  pclose(p);
  return out;
}

bool wait_for_log(const Gateway& gw, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    if (gw.log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class OcspTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(make_tls_certs(d_));
    ASSERT_EQ(std::system(("cd " + d_.path() + " && cat mx.pem ca.pem > mx-chain.pem").c_str()), 0);
    ASSERT_TRUE(make_response("V", 1, "mx.ocsp"));
  }

  // An OCSP response for mx.pem signed by the CA: status V (good) or R (revoked), valid for `days`.
  bool make_response(const std::string& status, int days, const std::string& out) {
    std::string serial = shell("openssl x509 -in " + d_.file("mx.pem") + " -noout -serial");
    serial = serial.substr(serial.find('=') + 1);
    while (!serial.empty() && (serial.back() == '\n' || serial.back() == '\r')) serial.pop_back();
    const std::string revoked = status == "R" ? "240101000000Z" : "";
    d_.write("index.txt", status + "\t301231000000Z\t" + revoked + "\t" + serial + "\tunknown\t/CN=mx.test\n");
    std::string cmd = "cd " + d_.path() + " && openssl ocsp -issuer ca.pem -cert mx.pem -no_nonce -reqout req.der" +
                      " >/dev/null 2>&1 && openssl ocsp -index index.txt -rsigner ca.pem -rkey ca.key -CA ca.pem" +
                      " -reqin req.der -ndays " + std::to_string(days) + " -respout " + out + ".new >/dev/null 2>&1 && mv " +
                      out + ".new " + out + " && chmod 644 " + out;
    return std::system(cmd.c_str()) == 0;
  }

  std::string s_client(const Gateway& gw, bool status) {
    return shell("openssl s_client -connect " + gw.smtp_address() + " -starttls smtp -servername mx.test -CAfile " +
                 d_.file("ca.pem") + (status ? " -status" : "") + " </dev/null");
  }

  std::vector<std::string> listener(const std::string& ocsp) {
    return {"smtp.listener.0.tls_cert=" + d_.file("mx-chain.pem"), "smtp.listener.0.tls_key=" + d_.file("mx.key"),
            "smtp.listener.0.ocsp_file=" + d_.file(ocsp)};
  }

  TempDir d_;
};

TEST_F(OcspTest, ResponseIsStapledWhenTheClientAsks) {
  Gateway gw;
  ASSERT_TRUE(gw.start(listener("mx.ocsp"))) << gw.log();
  std::string with = s_client(gw, true);
  EXPECT_NE(with.find("OCSP Response Status: successful"), std::string::npos) << with;
  EXPECT_NE(with.find("Cert Status: good"), std::string::npos) << with;
  EXPECT_NE(with.find("Verify return code: 0 (ok)"), std::string::npos) << with;
  std::string without = s_client(gw, false);
  EXPECT_EQ(without.find("OCSP Response Status"), std::string::npos) << without;
  EXPECT_NE(without.find("Verify return code: 0 (ok)"), std::string::npos) << without;
}

TEST_F(OcspTest, SighupRereadsTheResponseFile) {
  Gateway gw;
  ASSERT_TRUE(gw.start(listener("mx.ocsp"))) << gw.log();
  std::string before = s_client(gw, true);
  auto next_update = [](const std::string& out) {
    auto pos = out.find("Next Update: ");
    return pos == std::string::npos ? std::string() : out.substr(pos, out.find('\n', pos) - pos);
  };
  ASSERT_FALSE(next_update(before).empty()) << before;
  ASSERT_TRUE(make_response("V", 3, "mx.ocsp"));
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for_log(gw, "config.reloaded")) << gw.log();
  std::string after = s_client(gw, true);
  ASSERT_FALSE(next_update(after).empty()) << after;
  EXPECT_NE(next_update(before), next_update(after)) << before << after;
}

TEST_F(OcspTest, RevokedResponseIsRefusedAtStartAndOnReload) {
  ASSERT_TRUE(make_response("R", 1, "revoked.ocsp"));
  Gateway bad;
  EXPECT_FALSE(bad.start(listener("revoked.ocsp")));
  EXPECT_NE(bad.log().find("is revoked"), std::string::npos) << bad.log();

  Gateway gw;
  ASSERT_TRUE(gw.start(listener("mx.ocsp"))) << gw.log();
  ASSERT_EQ(std::system(("cp " + d_.file("revoked.ocsp") + " " + d_.file("mx.ocsp")).c_str()), 0);
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for_log(gw, "config.reload_failed")) << gw.log();
  EXPECT_NE(gw.log().find("is revoked"), std::string::npos) << gw.log();
  std::string still = s_client(gw, true);
  EXPECT_NE(still.find("Cert Status: good"), std::string::npos) << still;  // the old staple stays
}

}  // namespace
}  // namespace mailmoat::testing
