// The rules' disclaimer action through the real gateway: SmtpClient in,
// Maildir (or smtp-sink) out, and the delivered bytes read back by
// independent parsers: Python's email module for the MIME structure and text,
// dkimpy for the DKIM signature made after the disclaimer was added.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness.h"

namespace mailmoat::testing {

namespace {

const std::string kScripts = std::string(MAILMOAT_SOURCE_DIR) + "/tests/integration/scripts/";
const std::string kDkimPeer = std::string(MAILMOAT_SOURCE_DIR) + "/tests/auth/dkim/peers/dkimpy_peer.py";

constexpr const char* kRules = R"(
[[rule]]
name = "legal footer"
priority = 10
conditions = [{ subject = { words = ["TOKEN-DISC"] } }]
actions = [{ disclaimer = { text = "Mailmoat Corp – confidential ©", fallback = "wrap" } }]

[[rule]]
name = "second footer"
priority = 11
conditions = [{ subject = { words = ["TOKEN-DISC"] } }]
actions = [{ disclaimer = { text = "SECOND FOOTER", position = "prepend" } }]

[[rule]]
name = "strict footer"
priority = 20
conditions = [{ subject = { words = ["TOKEN-STRICT"] } }]
actions = [{ disclaimer = { text = "Strict footer", html = "<p class=\"f\">Strict footer</p>", fallback = "reject" } }]
)";

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

// The message's MIME leaves as Python's email module decodes them (first line: the message itself).
std::vector<nlohmann::json> parts(const TempDir& dir, const std::string& message) {
  dir.write("delivered.eml", message);
  std::string out = shell("/usr/bin/python3 " + kScripts + "mime_parts.py " + dir.file("delivered.eml"));
  std::vector<nlohmann::json> lines;
  for (std::size_t start = 0, nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
  return lines;
}

std::string alternative(const std::string& subject) {
  // Quoted-printable UTF-8 text and base64 HTML, as mail clients send them.
  return "From: ann@sender.example\r\nTo: u@localhost\r\nSubject: " + subject +
         "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
         "--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
         "Gr=C3=BC=C3=9Fe aus K=C3=B6ln,\r\nAnn\r\n"
         "--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         "PGh0bWw+PGJvZHk+PHA+R3LDvMOfZSBhdXMgS8O2bG4sPGJyPkFubjwvcD48L2JvZHk+PC9odG1sPg==\r\n"
         "--alt--\r\n";
}

const std::string kSigned =
    "From: ann@sender.example\r\nTo: u@localhost\r\nSubject: SUBJ\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"s1\"\r\n\r\n"
    "--s1\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n"
    "--s1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAKCAMIIB\r\n--s1--\r\n";

std::string with_subject(std::string m, const std::string& subject) { return m.replace(m.find("SUBJ"), 4, subject); }

struct DisclaimerGateway {
  TempDir dir;
  Gateway gw;
  bool start(std::vector<std::string> extra = {}, const std::string& rules = kRules) {
    dir.write("rules.toml", rules);
    extra.push_back("rules.file=" + dir.file("rules.toml"));
    extra.push_back("smtp.accepted_domains=[\"localhost\"]");
    // These tests are about the disclaimer, not holds: attachment analysis finishes at end of
    // data even on a loaded machine. (Held messages get the disclaimer too:
    // tests/integration/attachments_chain_test.cpp.)
    extra.push_back("attachments.fast_path_ms=10000");
    return gw.start(extra);
  }
  std::string send(const std::string& to, const std::string& content) {
    SmtpClient c;
    if (!c.connect(gw.smtp_address())) return "connect failed";
    return c.send_message("ann@sender.example", {to}, content);
  }
};

}  // namespace

TEST(DisclaimerGateway, BothAlternativesCarryItOnceAndTheOriginalTextIsIntact) {
  DisclaimerGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  std::string reply = g.send("u@localhost", alternative("TOKEN-DISC report"));
  ASSERT_EQ(reply_code(reply), 250);
  auto box = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(box.size(), 1u) << g.gw.log();
  auto p = parts(g.dir, box[0]);
  ASSERT_EQ(p.size(), 3u) << box[0];
  EXPECT_EQ(p[0]["type"], "multipart/alternative");
  EXPECT_EQ(p[1]["type"], "text/plain");
  EXPECT_EQ(p[1]["cte"], "quoted-printable");
  EXPECT_EQ(p[1]["text"], "Grüße aus Köln,\nAnn\n\nMailmoat Corp – confidential ©");
  EXPECT_EQ(p[2]["type"], "text/html");
  EXPECT_EQ(p[2]["cte"], "base64");
  EXPECT_EQ(p[2]["text"], "<html><body><p>Grüße aus Köln,<br>Ann</p><p>Mailmoat Corp – confidential ©</p>\r\n</body></html>");
  // The second matching rule's disclaimer is not added (once per message), and the trace says so.
  EXPECT_EQ(box[0].find("SECOND FOOTER"), std::string::npos);
  std::string id = reply.substr(reply.rfind(' ') + 1);
  while (!id.empty() && (id.back() == '\r' || id.back() == '\n')) id.pop_back();
  std::string trace;
  for (int i = 0; i < 50 && trace.find("disclaimer_added") == std::string::npos; ++i) {
    auto r = run({"trace", "show", id, "--set", "server.data_dir=" + g.gw.data_dir() + "/var", "--set",
                  "http.listen=" + g.gw.http_address()});
    trace = r.out + r.err;
    if (trace.find("disclaimer_added") == std::string::npos) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(trace.find("rule 'legal footer': added to 2 text part(s) at the end"), std::string::npos) << trace;
  EXPECT_NE(trace.find("rule 'second footer': disclaimer not added, rule 'legal footer' already adds one"),
            std::string::npos)
      << trace;
}

TEST(DisclaimerGateway, ComposesWithSafeLinksWhoseRewritingComesFirst) {
  DisclaimerGateway g;
  std::string http = "127.0.0.1:" + std::to_string(free_port());
  ASSERT_TRUE(g.start({"http.listen=" + http, "links.enabled=true"},
                      "[[rule]]\nname = \"privacy\"\npriority = 1\n"
                      "actions = [{ disclaimer = { text = \"Privacy: https://corp.example/privacy\" } }]\n"))
      << g.gw.log();
  ASSERT_EQ(reply_code(g.send("u@localhost", "From: ann@sender.example\r\nSubject: link\r\n\r\n"
                                             "See http://www.example.net/page now.\r\n")),
            250);
  auto box = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(box.size(), 1u) << g.gw.log();
  auto p = parts(g.dir, box[0]);
  ASSERT_EQ(p.size(), 2u) << box[0];
  std::string text = p[1]["text"];
  // The sender's link is wrapped by Safe Links; the disclaimer, added after it, keeps its own link as written.
  EXPECT_EQ(text.find("http://www.example.net/page now"), std::string::npos) << text;
  EXPECT_NE(text.find("See http://" + http + "/v1/l"), std::string::npos) << text;
  EXPECT_NE(text.find(" now.\n\nPrivacy: https://corp.example/privacy\n"), std::string::npos) << text;
}

TEST(DisclaimerGateway, SignedMessageIsWrappedOrRefusedAsTheRuleSays) {
  DisclaimerGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  ASSERT_EQ(reply_code(g.send("u@localhost", with_subject(kSigned, "TOKEN-DISC signed"))), 250);
  auto box = wait_for_mail(g.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(box.size(), 1u) << g.gw.log();
  auto p = parts(g.dir, box[0]);
  ASSERT_EQ(p.size(), 3u) << box[0];
  EXPECT_EQ(p[0]["type"], "multipart/mixed");
  EXPECT_EQ(p[0]["subject"], "TOKEN-DISC signed");  // headers kept on the outer message
  EXPECT_EQ(p[1]["type"], "text/plain");
  EXPECT_EQ(p[1]["text"], "Mailmoat Corp – confidential ©\n");
  EXPECT_EQ(p[2]["type"], "message/rfc822");
  EXPECT_EQ(p[2]["inner_type"], "multipart/signed");
  // The signed entity inside is byte for byte what was sent, so its signature still verifies.
  std::string signed_entity = kSigned.substr(kSigned.find("--s1\r\n"));
  EXPECT_NE(p[2]["inner_bytes"].get<std::string>().find(signed_entity), std::string::npos) << box[0];

  std::string reply = g.send("u@localhost", with_subject(kSigned, "TOKEN-STRICT signed"));
  EXPECT_EQ(reply_code(reply), 550) << reply;
  EXPECT_NE(reply.find("5.7.1 Message cannot carry the disclaimer required by policy"), std::string::npos) << reply;
  EXPECT_NE(reply.find("multipart/signed is signed or encrypted"), std::string::npos) << reply;
  // A changeable message under the same rule gets its HTML form.
  ASSERT_EQ(reply_code(g.send("v@localhost", alternative("TOKEN-STRICT ok"))), 250);
  auto v = wait_for_mail(g.gw.data_dir(), "v@localhost", 1);
  ASSERT_EQ(v.size(), 1u);
  auto q = parts(g.dir, v[0]);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_NE(q[2]["text"].get<std::string>().find("<p class=\"f\">Strict footer</p>\r\n</body>"), std::string::npos);
}

TEST(DisclaimerGateway, RelayedMailIsDkimSignedAfterTheDisclaimerAndVerifiesInDkimpy) {
  TempDir dir;
  auto key = run({"keygen", "--domain", "example.com", "--selector", "s1", "--algorithm", "rsa", "--out",
                  dir.file("s1.pem")});
  ASSERT_EQ(key.exit_code, 0) << key.err;
  std::string record;
  for (std::size_t q = key.out.find('"'); q != std::string::npos; q = key.out.find('"', q + 1)) {
    std::size_t end = key.out.find('"', q + 1);
    record += key.out.substr(q + 1, end - q - 1);
    q = end;
  }
  dir.write("keys.tsv", "s1._domainkey.example.com\t" + record + "\n");
  dir.write("rules.toml",
            "[[rule]]\nname = \"outbound footer\"\npriority = 1\nconditions = [{ direction = \"outbound\" }]\n"
            "actions = [{ disclaimer = { text = \"Sent from Example Corp. ©\" } }]\n");
  SmtpSink sink;
  Gateway gw;
  ASSERT_TRUE(gw.start({"smtp.listener.0.role=relay", "smtp.accepted_domains=[\"example.com\"]",
                        "route.0.domains=[\"*\"]", "route.0.transport=relay",
                        "route.0.next_hop=[127.0.0.1]:" + std::to_string(sink.port()), "queue.retry_base_seconds=1",
                        "dkim.key.0.domain=example.com", "dkim.key.0.selector=s1", "dkim.key.0.key_file=" + dir.file("s1.pem"),
                        "rules.file=" + dir.file("rules.toml")}))
      << gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(gw.smtp_address()));
  const std::string message =
      "From: Joe <joe@example.com>\r\nTo: Sue <sue@remote.test>\r\nSubject: Lunch\r\n"
      "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <d1@example.com>\r\n\r\nAre you hungry?\r\n";
  ASSERT_EQ(reply_code(c.send_message("joe@example.com", {"sue@remote.test"}, message)), 250);
  auto got = sink.wait_for(1);
  ASSERT_EQ(got.size(), 1u) << gw.log();
  // From the signature on, CRLF line ends, as the next hop got it.
  std::string dump = got[0], lf, delivered;
  std::size_t at = dump.rfind("DKIM-Signature:", 0) == 0 ? 0 : dump.find("\nDKIM-Signature:") + 1;
  ASSERT_NE(at, std::string::npos + 1) << dump;
  for (std::size_t i = at; i < dump.size(); ++i)
    if (dump[i] != '\r') lf += dump[i];
  for (char ch : lf) delivered += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
  // Plain ASCII mail and a non-ASCII disclaimer: the message is re-declared UTF-8, quoted-printable.
  EXPECT_NE(delivered.find("\r\n\r\nAre you hungry?\r\n\r\nSent from Example Corp. =C2=A9\r\n"), std::string::npos)
      << delivered;
  auto p = parts(dir, delivered);
  ASSERT_EQ(p.size(), 2u) << delivered;
  EXPECT_EQ(p[1]["charset"], "utf-8");
  EXPECT_EQ(p[1]["cte"], "quoted-printable");
  // (The sink's dump ends with an empty line of its own.)
  EXPECT_TRUE(p[1]["text"].get<std::string>().starts_with("Are you hungry?\n\nSent from Example Corp. ©\n")) << delivered;
  dir.write("msg.eml", delivered);
  EXPECT_EQ(shell("/usr/bin/python3 " + kDkimPeer + " verify " + dir.file("msg.eml") + " " + dir.file("keys.tsv")),
            "pass\n")
      << delivered;
}

}  // namespace mailmoat::testing

namespace mailmoat::testing {

TEST(DisclaimerCli, RulesTestTriesTheDisclaimerAndItsFallback) {
  TempDir dir;
  dir.write("rules.toml", kRules);
  dir.write("plain.eml", "From: a@sender.example\r\nSubject: TOKEN-STRICT hi\r\n\r\nhello\r\n");
  dir.write("signed.eml", with_subject(kSigned, "TOKEN-STRICT signed"));
  auto ok = run({"rules", "test", "--rules", dir.file("rules.toml"), "--rcpt", "u@localhost", dir.file("plain.eml")});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("note: disclaimer disclaimer_added: rule 'strict footer': added to 1 text part(s) at the end"),
            std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("outcome: deliver"), std::string::npos) << ok.out;
  auto refused = run({"rules", "test", "--rules", dir.file("rules.toml"), "--json", dir.file("signed.eml")});
  EXPECT_EQ(refused.exit_code, 0) << refused.err;
  auto j = nlohmann::json::parse(refused.out);
  EXPECT_EQ(j["outcome"], "reject");
  EXPECT_EQ(j["disclaimer"][0]["event"], "disclaimer_part");
  EXPECT_NE(j["smtp_reply"].get<std::string>().find("550 5.7.1 Message cannot carry the disclaimer"), std::string::npos);
}

}  // namespace mailmoat::testing
