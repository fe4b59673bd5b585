// ARC interop with dkimpy run as a local process: sets sealed by mailmoat
// validate in dkim.arc_verify, sets sealed by dkim.arc_sign validate in
// mailmoat, and mixed chains (dkimpy then mailmoat, mailmoat then dkimpy)
// validate in both. Keys come from the openssl command line.
#include <gtest/gtest.h>

#include "auth/arc/sealer.h"
#include "auth/arc/verifier.h"
#include "auth/dkim/signer.h"
#include "dkim/fake_resolver.h"
#include "mail/message.h"
#include "dkim/peers/peer_process.h"

namespace mailmoat::auth::arc {
namespace {

using testing::run_peer;

const std::string kMessage =
    "Authentication-Results: lists.example.org; spf=pass smtp.mailfrom=example.com;\r\n"
    "  dkim=pass header.d=example.com\r\n"
    "From: Joe <joe@example.com>\r\nTo: list@lists.example.org\r\nSubject: Hello list\r\n"
    "Date: Fri, 28 Nov 2025 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\nMIME-Version: 1.0\r\n\r\n"
    "Hi there.\r\n";

struct Keys {
  testing::ScratchDir dir;
  std::string pem, keys_file;
  dkim::PrivateKey rsa, ed;
  bool ok = false;
  Keys() {
    pem = dir.file("rsa.pem");
    if (run_peer("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + dir.file("k8.pem")).status != 0) return;
    if (run_peer("openssl rsa -in " + dir.file("k8.pem") + " -traditional -out " + pem).status != 0) return;
    if (run_peer("openssl genpkey -algorithm ed25519 -out " + dir.file("ed.pem")).status != 0) return;
    rsa = *dkim::load_private_key(testing::read_file(pem));
    ed = *dkim::load_private_key(testing::read_file(dir.file("ed.pem")));
    keys_file = dir.write("keys.txt", "rsa._domainkey.lists.example.org\t" + dkim::key_record_for(rsa) +
                                          "\ned._domainkey.lists.example.org\t" + dkim::key_record_for(ed) + "\n");
    ok = true;
  }
};

Keys& keys() {
  static Keys k;
  return k;
}

ChainResult mailmoat_verify(const std::string& text) {
  testing::FakeResolver dns;
  dns.add_txt("rsa._domainkey.lists.example.org", dkim::key_record_for(keys().rsa));
  dns.add_txt("ed._domainkey.lists.example.org", dkim::key_record_for(keys().ed));
  auto m = mail::Message::parse(text);
  EXPECT_TRUE(m);
  ChainResult out;
  verify_chain(*m, dns, [&](ChainResult r) { out = std::move(r); });
  return out;
}

std::string mailmoat_seal(const std::string& text, const dkim::PrivateKey& key, const char* sel) {
  auto m = mail::Message::parse(text);
  ChainValidation cv = mailmoat_verify(text).cv;
  auto payload = results_for(*m, "lists.example.org").value_or("lists.example.org; none");
  auto set = SealerBuilder("lists.example.org", sel, key).build()->seal(*m, payload, cv, time(nullptr));
  EXPECT_TRUE(set && set->has_value());
  return (*set)->fields() + text;
}

std::string dkimpy(const std::string& cmd, const std::string& text) {
  std::string file = keys().dir.write("msg.eml", text);
  std::string args = cmd == "arc_verify" ? file + " " + keys().keys_file : file + " " + keys().pem + " lists.example.org rsa lists.example.org";
  return run_peer("/usr/bin/python3 " + testing::peer_script("dkimpy_peer.py") + " " + cmd + " " + args).out;
}

TEST(ArcInterop, MailmoatRsaSealValidatesInDkimpy) {
  ASSERT_TRUE(keys().ok);
  EXPECT_EQ(dkimpy("arc_verify", mailmoat_seal(kMessage, keys().rsa, "rsa")).substr(0, 4), "pass");
}

// dkimpy 1.1.4's ARC code knows only rsa-sha256 ("unknown signature
// algorithm: ed25519-sha256"), so Ed25519 seals are checked against the
// mail-auth sample instead (chain_test.cpp).
TEST(ArcInterop, MailmoatTwoHopRsaValidatesInDkimpy) {
  ASSERT_TRUE(keys().ok);
  std::string m = mailmoat_seal(kMessage, keys().rsa, "rsa");
  m = "Authentication-Results: lists.example.org; arc=pass\r\n" + m;
  m = mailmoat_seal(m, keys().rsa, "rsa");
  std::string out = dkimpy("arc_verify", m);
  EXPECT_EQ(out.substr(0, 4), "pass") << out;
}

TEST(ArcInterop, DkimpySealValidatesInMailmoat) {
  ASSERT_TRUE(keys().ok);
  std::string sealed = dkimpy("arc_sign", kMessage);
  ASSERT_NE(sealed.find("ARC-Seal"), std::string::npos);
  auto r = mailmoat_verify(sealed);
  EXPECT_EQ(r.cv, ChainValidation::pass) << r.reason;
}

TEST(ArcInterop, MixedChainsValidateInBoth) {
  ASSERT_TRUE(keys().ok);
  // dkimpy first, then mailmoat.
  std::string m = dkimpy("arc_sign", kMessage);
  m = "Authentication-Results: lists.example.org; arc=pass\r\n" + m;
  m = mailmoat_seal(m, keys().rsa, "rsa");
  EXPECT_EQ(mailmoat_verify(m).cv, ChainValidation::pass);
  EXPECT_EQ(dkimpy("arc_verify", m).substr(0, 4), "pass");
  // mailmoat first, then dkimpy (which reads cv from the arc= result).
  std::string n = mailmoat_seal(kMessage, keys().rsa, "rsa");
  n = "Authentication-Results: lists.example.org; arc=pass\r\n" + n;
  n = dkimpy("arc_sign", n);
  ASSERT_NE(n.find("i=2"), std::string::npos);
  auto r = mailmoat_verify(n);
  EXPECT_EQ(r.cv, ChainValidation::pass) << r.reason;
  EXPECT_EQ(r.instances.size(), 2u);
  EXPECT_EQ(dkimpy("arc_verify", n).substr(0, 4), "pass");
}

TEST(ArcInterop, TamperedSealFailsInDkimpy) {
  ASSERT_TRUE(keys().ok);
  std::string m = mailmoat_seal(kMessage, keys().rsa, "rsa");
  m.replace(m.find("Hello list"), 10, "Hello LIST");
  EXPECT_EQ(dkimpy("arc_verify", m).substr(0, 4), "fail");
}

}  // namespace
}  // namespace mailmoat::auth::arc
