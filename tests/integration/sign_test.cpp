// DKIM signing and ARC sealing end to end: `mailmoat keygen` and `mailmoat
// sign` from the command line, mail relayed through the gateway arriving
// DKIM-signed (RSA and Ed25519) at smtp-sink, and inbound mail delivered to
// maildir with an ARC set. dkimpy (python3-dkim) is the independent judge;
// it gets the keys through dnsfunc, never from DNS.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace mailmoat::testing {

namespace {

const std::string kPeer = std::string(MAILMOAT_SOURCE_DIR) + "/tests/auth/dkim/peers/dkimpy_peer.py";
const std::string kMessage =
    "From: Joe <joe@example.com>\r\nTo: Sue <sue@remote.test>\r\nSubject: Lunch\r\n"
    "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nAre you hungry?\r\n";

// stdout of a shell command.
std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// The record inside keygen's zone line: the quoted strings joined.
std::string record_of(const std::string& zone_line) {
  std::string rec;
  for (std::size_t q = zone_line.find('"'); q != std::string::npos; q = zone_line.find('"', q + 1)) {
    std::size_t end = zone_line.find('"', q + 1);
    rec += zone_line.substr(q + 1, end - q - 1);
    q = end;
  }
  return rec;
}

struct Key {
  std::string file, name, record;
};

// `mailmoat keygen` into dir; the record is kept for dkimpy's dnsfunc.
Key keygen(const TempDir& dir, const std::string& selector, const std::string& algorithm) {
  Key k{dir.file(selector + ".pem"), selector + "._domainkey.example.com", ""};
  auto r = run({"keygen", "--domain", "example.com", "--selector", selector, "--algorithm", algorithm, "--out", k.file});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  k.record = record_of(r.out);
  return k;
}

void write_keys(const TempDir& dir, const std::vector<Key>& keys) {
  std::string text;
  for (const auto& k : keys) text += k.name + "\t" + k.record + "\n";
  dir.write("keys.tsv", text);
}

// CRLF line ends, from the position of the first line starting with `field`.
std::string message_from(const std::string& dump, const std::string& field) {
  std::size_t at = dump.rfind(field, 0) == 0 ? 0 : dump.find("\n" + field);
  if (at == std::string::npos) return {};
  std::string lf, out;
  for (std::size_t i = (at == 0 ? 0 : at + 1); i < dump.size(); ++i)
    if (dump[i] != '\r') lf += dump[i];
  for (char ch : lf) out += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  return out;
}

std::string dkimpy(const TempDir& dir, const std::string& cmd, const std::string& message) {
  dir.write("msg.eml", message);
  return shell("/usr/bin/python3 " + kPeer + " " + cmd + " " + dir.file("msg.eml") + " " + dir.file("keys.tsv"));
}

}  // namespace

TEST(Keygen, WritesAPrivateKeyWithMode0600AndPrintsTheZoneRecord) {
  TempDir dir;
  auto r = run({"keygen", "--domain", "example.com", "--selector", "s1", "--out", dir.file("k.pem")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(stat(dir.file("k.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(r.out.rfind("s1._domainkey.example.com. IN TXT ( \"v=DKIM1; k=rsa; p=", 0), 0u) << r.out;
  EXPECT_TRUE(r.out.ends_with(" )\n")) << r.out;
  // A 2048-bit key needs more than one string; none is over 255 bytes.
  int strings = 0;
  for (std::size_t q = r.out.find('"'); q != std::string::npos; q = r.out.find('"', r.out.find('"', q + 1) + 1)) {
    EXPECT_LE(r.out.find('"', q + 1) - q - 1, 255u);
    ++strings;
  }
  EXPECT_EQ(strings, 2);
  auto ed = run({"keygen", "--domain", "example.com", "--selector", "e1", "--algorithm", "ed25519", "--out",
                 dir.file("e.pem")});
  ASSERT_EQ(ed.exit_code, 0) << ed.err;
  EXPECT_NE(ed.out.find("\"v=DKIM1; k=ed25519; p="), std::string::npos) << ed.out;
  auto big = run({"keygen", "--domain", "example.com", "--selector", "b1", "--bits", "3072", "--out",
                  dir.file("b.pem")});
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_EQ(std::count(big.out.begin(), big.out.end(), '"'), 6) << big.out;  // three strings for 3072 bits
  EXPECT_GT(record_of(big.out).size(), record_of(r.out).size());
}

TEST(Keygen, RefusesToOverwriteAndReportsUsageErrors) {
  TempDir dir;
  dir.write("k.pem", "in use\n");
  auto r = run({"keygen", "--domain", "example.com", "--selector", "s1", "--out", dir.file("k.pem")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("File exists"), std::string::npos) << r.err;
  EXPECT_EQ(run({"keygen", "--domain", "example.com"}).exit_code, 2);
  EXPECT_EQ(run({"keygen", "--domain", "example.com", "--selector", "s", "--bits", "1024"}).exit_code, 2);
}

TEST(SignCli, SignedMessagesVerifyInDkimpyRsaAndEd25519BothCanonicalizations) {
  TempDir dir;
  Key rsa = keygen(dir, "rsa1", "rsa"), ed = keygen(dir, "ed1", "ed25519");
  write_keys(dir, {rsa, ed});
  dir.write("in.eml", kMessage);
  for (const char* canon : {"relaxed/relaxed", "simple/simple"}) {
    auto once = run({"sign", "--key", rsa.file, "--domain", "example.com", "--selector", "rsa1", "--canon", canon,
                     dir.file("in.eml")});
    ASSERT_EQ(once.exit_code, 0) << once.err;
    // The second signature from stdin: dual-signed.
    auto twice = run({"sign", "--key", ed.file, "--domain", "example.com", "--selector", "ed1", "--algorithm",
                      "ed25519", "--canon", canon, "-"},
                     once.out);
    ASSERT_EQ(twice.exit_code, 0) << twice.err;
    EXPECT_TRUE(twice.out.ends_with(kMessage));
    EXPECT_EQ(dkimpy(dir, "verify", twice.out), "pass\npass\n") << canon << "\n" << twice.out;
    std::string tampered = twice.out;
    tampered.replace(tampered.find("hungry"), 6, "thirst");
    EXPECT_EQ(dkimpy(dir, "verify", tampered), "fail\nfail\n");
  }
}

TEST(SignCli, ArcModeSealsAMessageThatDkimpyValidates) {
  TempDir dir;
  Key arc = keygen(dir, "arc1", "rsa");  // dkimpy's ARC code knows only rsa-sha256
  write_keys(dir, {arc});
  std::string in = "Authentication-Results: gw.example.com; spf=pass smtp.mailfrom=example.com\r\n" + kMessage;
  auto r = run({"sign", "--arc", "--authserv-id", "gw.example.com", "--key", arc.file, "--domain", "example.com",
                "--selector", "arc1", "-"},
               in);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("ARC-Seal: ", 0), 0u);
  EXPECT_NE(r.out.find("ARC-Authentication-Results: i=1; gw.example.com; spf=pass"), std::string::npos) << r.out;
  EXPECT_EQ(dkimpy(dir, "arc_verify", r.out).substr(0, 5), "pass ") << r.out;
  // Without our results there is nothing to carry: an error, not an empty AAR.
  auto none = run({"sign", "--arc", "--authserv-id", "other.example", "--key", arc.file, "--domain", "example.com",
                   "--selector", "arc1", "-"},
                  in);
  EXPECT_EQ(none.exit_code, 1);
}

TEST(SignCli, BadKeyOrUnreadableMessageIsOneLineAndExit1) {
  TempDir dir;
  dir.write("bad.pem", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
  dir.write("in.eml", kMessage);
  auto bad = run({"sign", "--key", dir.file("bad.pem"), "--domain", "example.com", "--selector", "s", dir.file("in.eml")});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_TRUE(bad.out.empty());
  Key k = keygen(dir, "s", "ed25519");
  auto missing = run({"sign", "--key", k.file, "--domain", "example.com", "--selector", "s", dir.file("nope.eml")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot read message"), std::string::npos) << missing.err;
  EXPECT_EQ(run({"sign", "--domain", "example.com", "--selector", "s", dir.file("in.eml")}).exit_code, 2);
}

TEST(SigningGateway, RelayedMailArrivesDualSignedAndVerifiesInDkimpy) {
  TempDir dir;
  Key rsa = keygen(dir, "rsa1", "rsa"), ed = keygen(dir, "ed1", "ed25519"), next = keygen(dir, "rsa2", "rsa");
  write_keys(dir, {rsa, ed, next});
  SmtpSink sink;
  Gateway gw;
  std::vector<std::string> overrides{"smtp.listener.0.role=relay", "route.0.domains=[\"localhost\"]",
                                     "route.0.transport=maildir", "route.1.domains=[\"*\"]",
                                     "route.1.transport=relay", "route.1.next_hop=[127.0.0.1]:" + std::to_string(sink.port()),
                                     "queue.retry_base_seconds=1"};
  int i = 0;
  for (const Key* k : {&rsa, &ed, &next}) {
    std::string p = "dkim.key." + std::to_string(i++) + ".";
    overrides.push_back(p + "domain=example.com");
    overrides.push_back(p + "selector=" + k->name.substr(0, k->name.find('.')));
    overrides.push_back(p + "key_file=" + k->file);
  }
  overrides.push_back("dkim.key.2.next=true");
  ASSERT_TRUE(gw.start(overrides)) << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("joe@example.com", {"sue@remote.test"}, kMessage)), 250);
  auto got = sink.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << gw.log();
  std::string delivered = message_from(got[0], "DKIM-Signature:");
  ASSERT_FALSE(delivered.empty()) << got[0];
  EXPECT_NE(delivered.find("s=rsa1;"), std::string::npos);
  EXPECT_NE(delivered.find("s=ed1;"), std::string::npos);
  EXPECT_EQ(delivered.find("s=rsa2;"), std::string::npos);  // the next key is not used yet
  EXPECT_NE(delivered.find("a=ed25519-sha256;"), std::string::npos);
  EXPECT_EQ(dkimpy(dir, "verify", delivered), "pass\npass\n") << delivered;
}

TEST(SigningGateway, InboundMailIsArcSealedAndValidatesInDkimpy) {
  TempDir dir;
  Key arc = keygen(dir, "arc1", "rsa");
  write_keys(dir, {arc});
  Gateway gw;
  ASSERT_TRUE(gw.start({"auth.authserv_id=mx.example.com", "arc.domain=example.com", "arc.selector=arc1",
                        "arc.key_file=" + arc.file}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("joe@example.com", {"u@localhost"}, kMessage)), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string delivered = message_from(mail[0], "ARC-Seal:");
  ASSERT_FALSE(delivered.empty()) << mail[0];
  EXPECT_NE(delivered.find("cv=none"), std::string::npos) << delivered;
  EXPECT_NE(delivered.find("ARC-Authentication-Results: i=1; mx.example.com;"), std::string::npos) << delivered;
  EXPECT_EQ(dkimpy(dir, "arc_verify", delivered).substr(0, 5), "pass ") << delivered;
}

// A message DKIM-signed and ARC-sealed upstream (by `mailmoat sign`), its keys
// published in the gateway's zone file exactly as keygen printed them: the
// auth filter finds dkim=pass and arc=pass, and the gateway adds i=2 with
// cv=pass, which dkimpy validates as a whole chain.
TEST(SigningGateway, ValidatedIncomingChainGetsTheNextSetWithCvPass) {
  TempDir dir;
  Gateway gw;
  std::string zone = "$TTL 300\n";
  std::vector<Key> keys;
  for (const char* sel : {"dk1", "up1", "gw1"}) {
    Key k{dir.file(std::string(sel) + ".pem"), std::string(sel) + "._domainkey.example.com", ""};
    auto r = run({"keygen", "--domain", "example.com", "--selector", sel, "--out", k.file});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    zone += r.out;  // zone-file ready as printed
    k.record = record_of(r.out);
    keys.push_back(k);
  }
  write_keys(dir, keys);
  {
    std::ofstream(gw.zone_file()) << zone;
  }
  auto dk = run({"sign", "--key", keys[0].file, "--domain", "example.com", "--selector", "dk1", "-"}, kMessage);
  ASSERT_EQ(dk.exit_code, 0) << dk.err;
  auto up = run({"sign", "--arc", "--authserv-id", "up.example.com", "--key", keys[1].file, "--domain", "example.com",
                 "--selector", "up1", "-"},
                "Authentication-Results: up.example.com; dkim=pass header.d=example.com\r\n" + dk.out);
  ASSERT_EQ(up.exit_code, 0) << up.err;
  ASSERT_TRUE(gw.start({"auth.authserv_id=mx.example.com", "arc.domain=example.com", "arc.selector=gw1",
                        "arc.key_file=" + keys[2].file}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("joe@example.com", {"u@localhost"}, up.out)), 250);
  auto mail = wait_for_mail(gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << gw.log();
  std::string delivered = message_from(mail[0], "ARC-Seal:");
  ASSERT_FALSE(delivered.empty()) << mail[0];
  EXPECT_NE(delivered.find("cv=pass; d=example.com; i=2; s=gw1;"), std::string::npos) << delivered;
  std::string aar = delivered.substr(delivered.find("ARC-Authentication-Results: i=2;"));
  aar = aar.substr(0, aar.find("\r\nARC-"));
  EXPECT_NE(aar.find("dkim=pass"), std::string::npos) << aar;
  EXPECT_NE(aar.find("arc=pass"), std::string::npos) << aar;
  EXPECT_EQ(dkimpy(dir, "arc_verify", delivered).substr(0, 5), "pass ") << delivered;
  EXPECT_EQ(dkimpy(dir, "verify", delivered), "pass\n") << delivered;
}

// Key rotation without a restart: a new key file under the same selector is
// used after SIGHUP; a broken one is refused and the last good key keeps signing.
TEST(SigningGateway, SighupReloadsKeysAndKeepsTheOldOnesWhenTheNewFileIsBroken) {
  TempDir dir;
  Key first = keygen(dir, "rsa1", "rsa");
  SmtpSink sink;
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "route.0.domains=[\"*\"]", "route.0.transport=relay",
                        "route.0.next_hop=[127.0.0.1]:" + std::to_string(sink.port()), "dkim.key.0.domain=example.com",
                        "dkim.key.0.selector=rsa1", "dkim.key.0.key_file=" + first.file}))
      << gw.log();
  // The sink's files come back in no particular order: each message is found by its subject.
  auto send_one = [&](std::size_t expect_total) {
    const std::string subject = "Subject: Lunch " + std::to_string(expect_total);
    std::string text = kMessage;
    text.replace(text.find("Subject: Lunch"), 14, subject);
    SmtpClient c;
    EXPECT_TRUE(c.connect(gw.smtp_address()));
    EXPECT_EQ(reply_code(c.send_message("joe@example.com", {"sue@remote.test"}, text)), 250);
    for (const auto& got : sink.wait_for(expect_total))
      if (got.find(subject + "\r\n") != std::string::npos || got.find(subject + "\n") != std::string::npos)
        return message_from(got, "DKIM-Signature:");
    return std::string();
  };
  write_keys(dir, {first});
  EXPECT_EQ(dkimpy(dir, "verify", send_one(1)), "pass\n");

  TempDir other;
  Key second = keygen(other, "rsa1", "rsa");
  ASSERT_EQ(std::rename(second.file.c_str(), first.file.c_str()), 0);
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(gw.wait_for_log("config.reloaded")) << gw.log();
  std::string after_rotation = send_one(2);
  write_keys(dir, {second});
  EXPECT_EQ(dkimpy(dir, "verify", after_rotation), "pass\n") << gw.log();
  write_keys(dir, {first});
  EXPECT_EQ(dkimpy(dir, "verify", after_rotation), "fail\n");  // signed with the new key, not the old

  dir.write("rsa1.pem", "not a key\n");
  ASSERT_EQ(::kill(gw.pid(), SIGHUP), 0);
  ASSERT_TRUE(gw.wait_for_log("config.reload_failed")) << gw.log();
  EXPECT_NE(gw.log().find("neither a PEM private key"), std::string::npos) << gw.log();
  write_keys(dir, {second});
  EXPECT_EQ(dkimpy(dir, "verify", send_one(3)), "pass\n") << gw.log();
}

TEST(SigningGateway, UnreadableKeyFileStopsServeWithOneLine) {
  TempDir dir;
  Gateway gw;
  EXPECT_FALSE(gw.start({"dkim.key.0.domain=example.com", "dkim.key.0.selector=s1",
                         "dkim.key.0.key_file=" + dir.file("missing.pem")}));
  EXPECT_NE(gw.log().find("dkim.key[0] (example.com, selector s1): cannot read key file"), std::string::npos)
      << gw.log();
}

}  // namespace mailmoat::testing
