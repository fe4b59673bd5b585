// Safe Links end to end: a DKIM-signed message with links comes in over SMTP
// and lands in the Maildir with its links rewritten, the DKIM result recorded
// as it was on receipt and an ARC seal over the rewritten message (validated by
// dkimpy); the click service redirects allowed links, shows the warning page for
// blocked ones, refuses forged links without redirecting, answers HEAD and
// previews without recording, and every click shows in `mailmoat links trace`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {
namespace {

const std::string kPeer = std::string(MAILMOAT_SOURCE_DIR) + "/tests/auth/dkim/peers/dkimpy_peer.py";

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

std::string record_of(const std::string& zone_line) {
  std::string rec;
  for (std::size_t q = zone_line.find('"'); q != std::string::npos; q = zone_line.find('"', q + 1)) {
    std::size_t end = zone_line.find('"', q + 1);
    rec += zone_line.substr(q + 1, end - q - 1);
    q = end;
  }
  return rec;
}

std::string crlf(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') continue;
    if (text[i] == '\n') out += '\r';
    out += text[i];
  }
  return out;
}

const std::string kMessage = crlf(
    "From: News <news@example.com>\nTo: Sue <u@localhost>\nSubject: Links\n"
    "Date: Sat, 28 Nov 2026 12:00:00 +0000\nMessage-ID: <links-1@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\n\n"
    "--b1\nContent-Type: text/plain; charset=us-ascii\n\nSafe: http://SAFE/page and bad: http://blocked.test/x\n"
    "--b1\nContent-Type: text/html; charset=us-ascii\n\n"
    "<p><a href=\"http://SAFE/page\">safe</a> <a href=\"http://blocked.test/x\">bad</a>"
    " <a href=\"mailto:news@example.com\">mail</a></p>\n--b1--\n");

std::vector<std::string> links_in(const std::string& text, const std::string& public_url) {
  std::vector<std::string> out;
  std::regex re(public_url + R"(/v1/l\?[A-Za-z0-9%._~&;=-]*[A-Za-z0-9_-])");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    std::string link = it->str();
    for (std::size_t p; (p = link.find("&amp;")) != std::string::npos;) link.replace(p, 5, "&");
    out.push_back(link);
  }
  return out;
}

std::string header(const std::string& headers, const std::string& name) {
  std::size_t at = headers.find("\n" + name + ": ");
  if (at == std::string::npos) return {};
  std::size_t end = headers.find('\r', at + 1);
  return headers.substr(at + name.size() + 3, end - at - name.size() - 3);
}

struct LinksGateway {
  TempDir dir;
  Gateway gw;
  std::string http;
  std::string public_url;
  std::string block_file = dir.file("block.txt");
  std::vector<std::string> overrides;

  explicit LinksGateway(std::vector<std::string> extra = {}) {
    http = "127.0.0.1:" + std::to_string(free_port());
    public_url = "http://" + http;
    dir.write("block.txt", "# test block list\nblocked.test\n");
    overrides = {"http.listen=" + http, "links.enabled=true", "links.block_lists=[\"" + block_file + "\"]"};
    overrides.insert(overrides.end(), extra.begin(), extra.end());
  }
  std::vector<std::string> cli(std::vector<std::string> args) const {
    args.insert(args.end(), {"--set", "server.data_dir=" + gw.data_dir() + "/var", "--set", "http.listen=" + http});
    return args;
  }
  std::string target(const std::string& link) const { return link.substr(public_url.size()); }
};

TEST(SafeLinks, InboundLinksAreRewrittenAfterDkimAndSealedWithArc) {
  LinksGateway t;
  // The sender's key in the gateway's zone, and the ARC key, as keygen prints them.
  std::string zone = "$TTL 300\n", keys;
  for (const char* sel : {"dk1", "arc1"}) {
    auto r = run({"keygen", "--domain", "example.com", "--selector", sel, "--out", t.dir.file(std::string(sel) + ".pem")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    zone += r.out;
    keys += std::string(sel) + "._domainkey.example.com\t" + record_of(r.out) + "\n";
  }
  t.dir.write("keys.tsv", keys);
  std::ofstream(t.gw.zone_file()) << zone;
  std::string message = kMessage;
  for (std::size_t p; (p = message.find("SAFE")) != std::string::npos;) message.replace(p, 4, t.http + "/healthz");
  auto signed_msg = run({"sign", "--key", t.dir.file("dk1.pem"), "--domain", "example.com", "--selector", "dk1", "-"}, message);
  ASSERT_EQ(signed_msg.exit_code, 0) << signed_msg.err;

  auto overrides = t.overrides;
  overrides.insert(overrides.end(), {"auth.authserv_id=mx.example.com", "arc.domain=example.com", "arc.selector=arc1",
                                     "arc.key_file=" + t.dir.file("arc1.pem")});
  ASSERT_TRUE(t.gw.start(overrides)) << t.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.com", {"u@localhost"}, signed_msg.out)), 250);
  auto mail = wait_for_mail(t.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << t.gw.log();
  std::string delivered = crlf(mail[0]);

  // DKIM as received: pass, although the rewritten body no longer matches the sender's signature.
  EXPECT_NE(delivered.find("dkim=pass header.d=example.com"), std::string::npos) << delivered;
  std::size_t seal = delivered.find("ARC-Seal:");
  ASSERT_NE(seal, std::string::npos) << delivered;
  // dkimpy finds a set's fields by the raw text " i=N;": the sealer writes i=
  // first so that it never lands on a continuation line; the bytes go as delivered.
  t.dir.write("delivered.eml", delivered.substr(seal));
  EXPECT_EQ(shell("/usr/bin/python3 " + kPeer + " arc_verify " + t.dir.file("delivered.eml") + " " + t.dir.file("keys.tsv"))
                .substr(0, 5),
            "pass ");
  EXPECT_EQ(shell("/usr/bin/python3 " + kPeer + " verify " + t.dir.file("delivered.eml") + " " + t.dir.file("keys.tsv")),
            "fail\n");  // the sender's DKIM body hash: the body was changed, as expected

  auto links = links_in(delivered, t.public_url);
  ASSERT_EQ(links.size(), 4u) << delivered;
  EXPECT_EQ(delivered.find("href=\"http://blocked.test/x\""), std::string::npos);
  EXPECT_NE(delivered.find("mailto:news@example.com"), std::string::npos);
  auto decoded = run(t.cli({"links", "decode", links[1]}));
  EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_NE(decoded.out.find("url:       http://blocked.test/x"), std::string::npos) << decoded.out;
  EXPECT_NE(decoded.out.find("recipient: u@localhost"), std::string::npos) << decoded.out;
  EXPECT_NE(decoded.out.find("signature: valid"), std::string::npos) << decoded.out;
  std::string forged = links[1];
  forged.replace(forged.find("blocked.test"), 12, "elsewhere.ex");
  auto bad = run(t.cli({"links", "decode", forged}));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("signature: INVALID"), std::string::npos) << bad.out;
}

TEST(SafeLinks, ClickServiceRedirectsWarnsRefusesForgeriesAndTracesClicks) {
  LinksGateway t({"links.organization=Example Corp", "links.notice=Call the help desk."});
  ASSERT_TRUE(t.gw.start(t.overrides)) << t.gw.log();
  std::string message = kMessage;
  for (std::size_t p; (p = message.find("SAFE")) != std::string::npos;) message.replace(p, 4, "allowed.test");
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.com", {"u@localhost"}, message)), 250);
  auto mail = wait_for_mail(t.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << t.gw.log();
  auto links = links_in(mail[0], t.public_url);
  ASSERT_EQ(links.size(), 4u) << mail[0];
  const std::string allowed = links[0], blocked = links[1];

  // A preview bot and a HEAD request follow nothing and record nothing.
  auto preview = http_request(t.http, "GET", t.target(allowed), "", {"User-Agent: Slackbot-LinkExpanding 1.0"});
  EXPECT_EQ(preview.status, 200);
  EXPECT_EQ(preview.headers.find("Location:"), std::string::npos);
  EXPECT_EQ(http_request(t.http, "HEAD", t.target(allowed)).status, 200);

  auto ok = http_request(t.http, "GET", t.target(allowed), "", {"User-Agent: Mozilla/5.0 test"});
  EXPECT_EQ(ok.status, 302);
  EXPECT_EQ(header(ok.headers, "Location"), "http://allowed.test/page") << ok.headers;

  auto warn = http_request(t.http, "GET", t.target(blocked), "", {"User-Agent: Mozilla/5.0 test"});
  EXPECT_EQ(warn.status, 200);
  EXPECT_EQ(warn.headers.find("Location:"), std::string::npos);
  EXPECT_NE(warn.body.find("http://blocked.test/x"), std::string::npos);
  EXPECT_NE(warn.body.find("block list"), std::string::npos);
  EXPECT_EQ(warn.body.find(t.block_file), std::string::npos);  // server paths stay out of the page
  EXPECT_NE(warn.body.find("Example Corp"), std::string::npos);
  EXPECT_NE(warn.body.find("Call the help desk."), std::string::npos);
  EXPECT_EQ(warn.body.find("Continue anyway"), std::string::npos);  // click-through is off by default
  EXPECT_EQ(warn.body.find("<script"), std::string::npos);
  EXPECT_NE(header(warn.headers, "Content-Security-Policy").find("default-src 'none'"), std::string::npos);
  auto sneak = http_request(t.http, "GET", "/v1/continue?" + blocked.substr(blocked.find('?') + 1));
  EXPECT_EQ(sneak.status, 403);
  EXPECT_EQ(sneak.headers.find("Location:"), std::string::npos);

  // Forged: another destination under the same signature.
  std::string forged = allowed;
  forged.replace(forged.find("allowed.test"), 12, "evil.example");
  auto bad = http_request(t.http, "GET", t.target(forged));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.headers.find("Location:"), std::string::npos);
  EXPECT_NE(bad.body.find("not valid"), std::string::npos);

  // The clicks, newest first; the preview and the HEAD are not among them.
  nlohmann::json clicks;
  for (int i = 0; i < 50; ++i) {
    auto r = run(t.cli({"links", "--json", "trace", "--recipient", "u@localhost"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    clicks = nlohmann::json::parse(r.out)["clicks"];
    if (clicks.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(clicks.size(), 2u) << clicks.dump(2);
  EXPECT_EQ(clicks[0]["action"], "blocked");
  EXPECT_EQ(clicks[0]["verdict"], "malicious");
  EXPECT_EQ(clicks[0]["url"], "http://blocked.test/x");
  EXPECT_EQ(clicks[0]["reasons"].back(), "list entry " + t.block_file + ":2 blocked.test");
  EXPECT_EQ(clicks[1]["action"], "allowed");
  EXPECT_EQ(clicks[1]["user_agent"], "Mozilla/5.0 test");
  EXPECT_EQ(clicks[1]["client_ip"], "127.0.0.1");
  auto filtered = run(t.cli({"links", "trace", "--url-contains", "blocked.test"}));
  EXPECT_NE(filtered.out.find("1 click(s)"), std::string::npos) << filtered.out;
  EXPECT_EQ(http_request(t.http, "GET", "/api/v1/clicks").status, 401);
}

TEST(SafeLinks, ClickThroughWhenThePolicyAllowsIt) {
  LinksGateway t({"links.allow_click_through=true"});
  ASSERT_TRUE(t.gw.start(t.overrides)) << t.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.com", {"u@localhost"}, kMessage)), 250);
  auto mail = wait_for_mail(t.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << t.gw.log();
  auto links = links_in(mail[0], t.public_url);
  ASSERT_EQ(links.size(), 4u);
  auto warn = http_request(t.http, "GET", t.target(links[1]));
  ASSERT_NE(warn.body.find("Continue anyway"), std::string::npos) << warn.body;
  auto through = http_request(t.http, "GET", "/v1/continue?" + links[1].substr(links[1].find('?') + 1));
  EXPECT_EQ(through.status, 302);
  EXPECT_EQ(header(through.headers, "Location"), "http://blocked.test/x");
}

// One body goes to every recipient, so a message to several carries no
// recipient in its links; the click must still be judged by the policy that
// rewrote the message (here the stricter one of a listed recipient), not by
// the default that lets everyone else click through.
TEST(SafeLinks, MessageToSeveralRecipientsIsJudgedByItsPolicyAtClickTime) {
  LinksGateway t({"links.allow_click_through=true"});
  t.dir.write("policy.toml",
              "[[links.policy]]\nname = \"finance\"\npriority = 10\nrecipients = [\"f@localhost\"]\n"
              "allow_click_through = false\norganization = \"Finance team\"\n");
  ASSERT_TRUE(t.gw.start(t.overrides, t.dir.file("policy.toml"))) << t.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.com", {"f@localhost", "u@localhost"}, kMessage)), 250);
  auto mail = wait_for_mail(t.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << t.gw.log();
  auto links = links_in(mail[0], t.public_url);
  ASSERT_EQ(links.size(), 4u) << mail[0];
  EXPECT_NE(links[1].find("&r=&p=finance&s="), std::string::npos) << links[1];
  auto warn = http_request(t.http, "GET", t.target(links[1]));
  EXPECT_EQ(warn.status, 200);
  EXPECT_NE(warn.body.find("Finance team"), std::string::npos) << warn.body;
  EXPECT_EQ(warn.body.find("Continue anyway"), std::string::npos) << warn.body;
  auto through = http_request(t.http, "GET", "/v1/continue?" + links[1].substr(links[1].find('?') + 1));
  EXPECT_EQ(through.status, 403);
  EXPECT_EQ(through.headers.find("Location:"), std::string::npos);
  // A forged policy name breaks the signature.
  std::string forged = links[1];
  forged.replace(forged.find("p=finance"), 9, "p=default");
  EXPECT_EQ(http_request(t.http, "GET", t.target(forged)).status, 400);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A stand-in URL shortener on loopback: each path answers like a real one
// (HEAD with a redirect; one refuses HEAD and redirects on GET; one leads to
// itself forever; one never answers in time), and it logs what it was asked.
const char* kShortener = R"PY(
import http.server, sys, time
port = int(sys.argv[1]); log = open(sys.argv[2], 'a', buffering=1)
routes = {'/bad': 'http://blocked.test/x', '/good': 'http://allowed.test/page',
          '/chain': 'http://localhost:%d/bad' % port, '/loop': 'http://localhost:%d/loop' % port,
          '/js': 'javascript:alert(1)'}
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        log.write(self.command + ' ' + self.path + '\n')
        if self.path == '/slow': time.sleep(3)
        if self.path == '/nohead' and self.command == 'HEAD':
            self.send_response(405); self.end_headers(); return
        to = routes.get(self.path, 'http://allowed.test/ok' if self.path == '/nohead' else None)
        if to is None:
            self.send_response(404); self.end_headers(); return
        self.send_response(301); self.send_header('Location', to); self.end_headers()
    do_HEAD = do_GET = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
)PY";

// links.resolve_shorteners: a click on a shortened link is judged by where the
// shortener says it leads (asked at click time only, never at delivery).
TEST(SafeLinks, ShortenedLinksAreJudgedByTheirDestinationAtClickTime) {
  TempDir sd;
  sd.write("shortener.py", kShortener);
  const int port = free_port();
  Process shortener({"/usr/bin/python3", sd.file("shortener.py"), std::to_string(port), sd.file("asked.log")});
  ASSERT_TRUE(wait_for_port("127.0.0.1:" + std::to_string(port)));
  LinksGateway t({"links.shorteners=[\"localhost\"]", "links.resolve_shorteners=true", "links.shortener_timeout_ms=1000"});
  ASSERT_TRUE(t.gw.start(t.overrides)) << t.gw.log();
  const std::string base = "http://localhost:" + std::to_string(port);
  std::string html = "<p>";
  for (const char* path : {"/bad", "/good", "/chain", "/nohead", "/loop", "/slow", "/js"})
    html += std::string("<a href=\"") + base + path + "\">x</a>\n";  // one link a line: rewritten lines stay under 998
  std::string message = crlf("From: News <news@example.com>\nTo: u@localhost\nSubject: Short\n"
                             "MIME-Version: 1.0\nContent-Type: text/html; charset=us-ascii\n\n" + html + "</p>\n");
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("news@example.com", {"u@localhost"}, message)), 250);
  auto mail = wait_for_mail(t.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(mail.size(), 1u) << t.gw.log();
  auto links = links_in(mail[0], t.public_url);
  ASSERT_EQ(links.size(), 7u) << mail[0];
  EXPECT_EQ(slurp(sd.file("asked.log")), "") << "the shortener was asked at delivery";

  auto bad = http_request(t.http, "GET", t.target(links[0]));  // leads to a blocked site
  EXPECT_EQ(bad.status, 200);
  EXPECT_EQ(bad.headers.find("Location:"), std::string::npos);
  EXPECT_NE(bad.body.find("http://blocked.test/x"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("block list"), std::string::npos) << bad.body;

  auto good = http_request(t.http, "GET", t.target(links[1]));  // leads to an allowed site: straight there
  EXPECT_EQ(good.status, 302);
  EXPECT_EQ(header(good.headers, "Location"), "http://allowed.test/page") << good.headers;

  auto chain = http_request(t.http, "GET", t.target(links[2]));  // a shortener leading to a shortener
  EXPECT_EQ(chain.status, 200);
  EXPECT_NE(chain.body.find("http://blocked.test/x"), std::string::npos) << chain.body;

  auto nohead = http_request(t.http, "GET", t.target(links[3]));  // refuses HEAD, redirects on GET
  EXPECT_EQ(nohead.status, 302);
  EXPECT_EQ(header(nohead.headers, "Location"), "http://allowed.test/ok") << nohead.headers;

  auto loop = http_request(t.http, "GET", t.target(links[4]));  // never ends: stays suspicious
  EXPECT_EQ(loop.status, 200);
  EXPECT_NE(loop.body.find("after 3 steps"), std::string::npos) << loop.body;

  auto slow = http_request(t.http, "GET", t.target(links[5]));  // no answer in time: stays suspicious
  EXPECT_EQ(slow.status, 200);
  EXPECT_NE(slow.body.find("could not be read"), std::string::npos) << slow.body;

  auto js = http_request(t.http, "GET", t.target(links[6]));  // leads to a script: never redirected there
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers.find("Location:"), std::string::npos);
  EXPECT_NE(js.body.find("non-web address"), std::string::npos) << js.body;

  const std::string asked = slurp(sd.file("asked.log"));
  EXPECT_NE(asked.find("HEAD /bad\n"), std::string::npos) << asked;
  EXPECT_NE(asked.find("GET /nohead\n"), std::string::npos) << asked;
  EXPECT_EQ(asked.find("GET /bad"), std::string::npos) << asked;  // HEAD was enough

  // The trace says where the shortened link led.
  nlohmann::json clicks;
  for (int i = 0; i < 50; ++i) {
    auto r = run(t.cli({"links", "--json", "trace", "--url-contains", "/bad"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    clicks = nlohmann::json::parse(r.out)["clicks"];
    if (!clicks.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(clicks.empty());
  EXPECT_EQ(clicks.back()["action"], "blocked");
  EXPECT_EQ(clicks.back()["reasons"][0], "the shortened link leads to http://blocked.test/x") << clicks.dump(2);
}

TEST(SafeLinks, WaitForVerdictQuarantinesAMessageWithAMaliciousLink) {
  LinksGateway t({"links.wait_for_verdict=true"});
  ASSERT_TRUE(t.gw.start(t.overrides)) << t.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(t.gw.smtp_address()));
  std::string reply = c.send_message("news@example.com", {"u@localhost"}, kMessage);
  EXPECT_EQ(reply_code(reply), 250) << reply;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(mailbox(t.gw.data_dir(), "u@localhost").empty());
  auto search = run(t.cli({"trace", "--json", "search"}));
  ASSERT_EQ(search.exit_code, 0) << search.err;
  auto records = nlohmann::json::parse(search.out)["records"];
  ASSERT_EQ(records.size(), 1u) << search.out;
  EXPECT_EQ(records[0]["status"], "quarantined") << search.out;
  auto show = run(t.cli({"trace", "--json", "show", records[0]["trace_id"].get<std::string>()}));
  EXPECT_NE(show.out.find("malicious link at delivery: http://blocked.test/x"), std::string::npos) << show.out;
}

}  // namespace
}  // namespace mailmoat::testing
