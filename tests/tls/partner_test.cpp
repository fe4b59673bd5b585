// Partner connector checks against certificates from a throw-away CA made with
// the openssl command: each failed requirement is named.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tls/partner.h"

namespace mailmoat::tls {
namespace {

class PartnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/mailmoat-partner-XXXXXX";
    dir_ = mkdtemp(tmpl);
    const std::string make_ca = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 ";
    auto leaf = [](const std::string& name, const std::string& ca, const std::string& san) {
      return "openssl req -newkey rsa:2048 -nodes -keyout " + name + ".key -out " + name + ".csr -subj /CN=" + san +
             " && printf 'subjectAltName=DNS:" + san + "\\nextendedKeyUsage=clientAuth,serverAuth' > " + name +
             ".ext && openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -CAcreateserial -out " +
             name + ".pem -days 2 -extfile " + name + ".ext";
    };
    std::string cmd = "cd " + dir_ + " && (" + make_ca + "-keyout ca.key -out ca.pem -subj /CN=PartnerCA && " + make_ca +
                      "-keyout other.key -out other.pem -subj /CN=OtherCA && " + leaf("good", "ca", "mta.partner.test") +
                      " && " + leaf("wild", "ca", "*.partner.test") + " && " + leaf("wrong", "ca", "mta.evil.test") + " && " +
                      leaf("foreign", "other", "mta.partner.test") + ") >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::vector<std::string> chain(const std::string& name) {
    std::FILE* f = std::fopen((dir_ + "/" + name + ".pem").c_str(), "r");
    X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    unsigned char* der = nullptr;
    int len = i2d_X509(x, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    X509_free(x);
    return {out};
  }

  static PartnerConnector connector(std::vector<std::string> names = {"mta.partner.test"}) {
    PartnerConfig c;
    c.name = "partner";
    c.sender_domains = {"partner.test", "*.partner.test"};
    c.accepted_names = std::move(names);
    c.ca_file = dir_ + "/ca.pem";
    auto loaded = PartnerConnector::load(c);
    EXPECT_TRUE(loaded) << loaded.error().message;
    return *loaded;
  }

  static std::string dir_;
};
std::string PartnerTest::dir_;

TEST_F(PartnerTest, CoversItsDomainsAndTheirSubdomainsOnly) {
  auto c = connector();
  EXPECT_TRUE(c.covers("Partner.Test"));
  EXPECT_TRUE(c.covers("eu.partner.test"));
  EXPECT_FALSE(c.covers("notpartner.test"));
  PartnerConnectors all({c});
  EXPECT_NE(all.for_sender("a@partner.test"), nullptr);
  EXPECT_EQ(all.for_sender("a@other.test"), nullptr);
  EXPECT_EQ(all.for_sender(""), nullptr);
}

TEST_F(PartnerTest, GoodCertificateMeetsTheConnector) {
  auto r = connector().check(PeerSession{true, chain("good"), "127.0.0.1"});
  EXPECT_TRUE(r.ok) << r.requirement << ": " << r.detail;
}

TEST_F(PartnerTest, WildcardCertificateMatchesAnAcceptedHostName) {
  auto r = connector().check(PeerSession{true, chain("wild"), "127.0.0.1"});
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST_F(PartnerTest, EachFailedRequirementIsNamed) {
  auto c = connector();
  EXPECT_EQ(c.check(PeerSession{false, {}, "127.0.0.1"}).requirement, "require_tls");
  EXPECT_EQ(c.check(PeerSession{true, {}, "127.0.0.1"}).requirement, "require_client_certificate");
  auto foreign = c.check(PeerSession{true, chain("foreign"), "127.0.0.1"});
  EXPECT_EQ(foreign.requirement, "certificate_chain");
  EXPECT_NE(foreign.detail.find("certificate validation failed"), std::string::npos) << foreign.detail;
  auto wrong = c.check(PeerSession{true, chain("wrong"), "127.0.0.1"});
  EXPECT_EQ(wrong.requirement, "certificate_name");
  EXPECT_NE(wrong.detail.find("mta.evil.test"), std::string::npos) << wrong.detail;
}

TEST_F(PartnerTest, ClientNetworksAreChecked) {
  PartnerConfig cfg = connector().config();
  cfg.client_networks = {*util::parse_network("192.0.2.0/24")};
  auto c = PartnerConnector::load(cfg);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->check(PeerSession{true, chain("good"), "127.0.0.1"}).requirement, "client_networks");
  EXPECT_TRUE(c->check(PeerSession{true, chain("good"), "192.0.2.7"}).ok);
}

TEST_F(PartnerTest, BadConfigurationIsRefusedWithAReason) {
  PartnerConfig cfg;
  cfg.name = "p";
  cfg.sender_domains = {"p.test"};
  EXPECT_NE(PartnerConnector::load(cfg).error().message.find("ca_file"), std::string::npos);
  cfg.ca_file = dir_ + "/missing.pem";
  EXPECT_NE(PartnerConnector::load(cfg).error().message.find("cannot load"), std::string::npos);
  cfg.ca_file = dir_ + "/ca.pem";
  cfg.refusal_code = 450;
  cfg.refusal_status = "5.7.1";
  EXPECT_FALSE(PartnerConnector::load(cfg));
}

}  // namespace
}  // namespace mailmoat::tls
