// The hostile input corpus (issue 13): messages built to break parsers and
// limits, each sent through the real SMTP path of a gateway running the whole
// inbound chain (SPF/DKIM/DMARC/ARC, rules, Safe Links, attachment triage).
// Every case has a defined outcome a mail administrator can check: the SMTP
// reply, and where it is accepted, delivery (with what the trace or the
// Authentication-Results say) or quarantine. After all of them the gateway
// still answers and its memory stayed bounded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "harness.h"

namespace mailmoat::testing {
namespace {

const std::string kHead = "From: Alice <alice@sender.example.org>\r\nTo: u@localhost\r\n"
                          "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n";

std::string subject(const std::string& name) { return "Subject: hostile " + name + "\r\n"; }

std::string mime_parts(int n) {
  std::string m = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n";
  for (int i = 0; i < n; ++i) m += "--b\r\nContent-Type: text/plain\r\n\r\npart " + std::to_string(i) + "\r\n";
  return m + "--b--\r\n";
}

std::string nested(int depth) {
  std::string m = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"n0\"\r\n\r\n";
  for (int i = 0; i < depth; ++i)
    m += "--n" + std::to_string(i) + "\r\nContent-Type: multipart/mixed; boundary=\"n" + std::to_string(i + 1) +
         "\"\r\n\r\n";
  m += "--n" + std::to_string(depth) + "\r\nContent-Type: text/plain\r\n\r\ndeep http://deep.example.com/\r\n";
  for (int i = depth; i >= 0; --i) m += "--n" + std::to_string(i) + "--\r\n";
  return m;
}

struct Case {
  std::string name;
  std::function<std::string(const std::string&)> build;  // subject line -> whole message
  std::string expect;  // "deliver", "quarantine", or an SMTP reply prefix ("554 5.6.0")
  std::string delivered_contains;  // for deliver: text the delivered copy must hold
};

std::vector<Case> cases() {
  std::vector<Case> c;
  c.push_back({"header-line-1MB", [](const std::string& s) { return kHead + s + "X-Long: " + std::string(1 << 20, 'a') + "\r\n\r\nbody\r\n"; },
               "554 5.6.0", ""});
  c.push_back({"header-without-colon", [](const std::string& s) { return kHead + s + "This line has no colon\r\n\r\nbody\r\n"; },
               "deliver", "This line has no colon"});
  c.push_back({"nul-bytes", [](const std::string& s) { return kHead + s + "\r\nbefore" + std::string(3, '\0') + "after\r\n"; },
               "deliver", "after"});
  c.push_back({"8bit-headers-without-smtputf8", [](const std::string& s) { return kHead + s + "X-Note: caf\xc3\xa9 \xff\xfe\r\n\r\nbody\r\n"; },
               "deliver", "X-Note:"});
  c.push_back({"10000-mime-parts", [](const std::string& s) { return kHead + s + mime_parts(10000); }, "deliver", "part 9999"});
  c.push_back({"nesting-200-levels", [](const std::string& s) { return kHead + s + nested(200); }, "deliver", "deep"});
  c.push_back({"boundary-collides-with-content",
               [](const std::string& s) {
                 return kHead + s + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\n"
                        "Content-Type: text/plain\r\n\r\n--xy is not a boundary\r\n--x \r\nContent-Type: text/html\r\n\r\n"
                        "<a href=\"http://b.example.com/\">b</a>\r\n--x--\r\n";
               },
               "deliver", "--xy is not a boundary"});
  c.push_back({"broken-base64-and-qp",
               [](const std::string& s) {
                 return kHead + s + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                        "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not*base64===\r\nQUJD\r\n"
                        "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                        "=ZZ=4 <a href=3D\"http://q.example.com/\">=\r\n--b--\r\n";
               },
               "deliver", "not*base64"});
  c.push_back({"charset-that-does-not-exist",
               [](const std::string& s) {
                 return kHead + s + "MIME-Version: 1.0\r\nContent-Type: text/html; charset=x-no-such-charset\r\n\r\n"
                        "<a href=\"http://c.example.com/\">\xe9\xe8</a>\r\n";
               },
               "deliver", "charset=x-no-such-charset"});
  c.push_back({"body-100MB", [](const std::string& s) {
                 std::string line(998, 'z');
                 line += "\r\n";
                 std::string m = kHead + s + "\r\n";
                 m.reserve(100u << 20);
                 while (m.size() < (100u << 20)) m += line;
                 return m;
               },
               "552 5.3.4", ""});
  c.push_back({"from-with-1000-addresses",
               [](const std::string& s) {
                 std::string from = "From: ";
                 for (int i = 0; i < 1000; ++i) from += (i ? ",\r\n " : "") + std::string("a") + std::to_string(i) + "@sender.example.org";
                 return from + "\r\nTo: u@localhost\r\n" + s + "\r\nbody\r\n";
               },
               "quarantine", ""});
  c.push_back({"500-dkim-signatures",
               [](const std::string& s) {
                 std::string m;
                 for (int i = 0; i < 500; ++i)
                   m += "DKIM-Signature: v=1; a=rsa-sha256; d=sender.example.org; s=s" + std::to_string(i) +
                        "; h=from; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\r\n";
                 return m + kHead + s + "\r\nbody\r\n";
               },
               "deliver", "dkim=permerror"});
  c.push_back({"duplicate-from-fields",
               [](const std::string& s) { return kHead + "From: ceo@bank.example.net\r\n" + s + "\r\nwire the money\r\n"; },
               "quarantine", ""});
  c.push_back({"look-alike-from-domain",
               [](const std::string& s) {
                 return "From: PayPal <service@xn--pypal-4ve.example>\r\nTo: u@localhost\r\n" + s +
                        "\r\nhttp://xn--pypal-4ve.example/login\r\n";
               },
               "deliver", "dmarc="});
  return c;
}

// Polls `mailmoat quarantine list --json` until an item mentions `text`.
bool quarantined(const Gateway& gw, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    auto r = run({"quarantine", "list", "--json", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                  "http.listen=" + gw.http_address()});
    if (r.out.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

TEST(Hostile, EveryCaseHasItsDefinedOutcomeAndTheGatewayStaysUpWithBoundedMemory) {
  Gateway gw;
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  ASSERT_TRUE(gw.start({"http.listen=" + http, "links.enabled=true", "links.public_url=http://" + http,
                        "attachments.policy.0.action=monitor", "attachments.workers=1"}))
      << gw.log();
  const long rss_start = rss_kib(gw.pid());
  int delivered = 0;
  for (const Case& k : cases()) {
    SCOPED_TRACE(k.name);
    SmtpClient c;
    ASSERT_TRUE(c.connect(gw.smtp_address()));
    std::string text = k.build(subject(k.name));
    // Dot-stuffing, as any client does.
    for (std::size_t p = text.find("\r\n."); p != std::string::npos; p = text.find("\r\n.", p + 3)) text.insert(p + 2, ".");
    std::string reply = c.send_message("bounce@sender.example.org", {"u@localhost"}, text);
    if (k.expect == "deliver" || k.expect == "quarantine") {
      ASSERT_EQ(reply_code(reply), 250) << reply << gw.log().substr(0, 2000);
      if (k.expect == "deliver") {
        auto mail = wait_for_mail(gw.data_dir(), "u@localhost", ++delivered);
        ASSERT_EQ(static_cast<int>(mail.size()), delivered) << gw.log().substr(0, 4000);
        bool found = false;
        for (const auto& m : mail)
          if (m.find("hostile " + k.name) != std::string::npos) found = m.find(k.delivered_contains) != std::string::npos;
        EXPECT_TRUE(found) << "delivered copy lacks '" << k.delivered_contains << "'";
      } else {
        ASSERT_TRUE(quarantined(gw, "hostile " + k.name)) << gw.log().substr(0, 4000);
      }
    } else {
      EXPECT_EQ(reply.substr(0, k.expect.size()), k.expect) << reply;
    }
    SmtpClient alive;
    ASSERT_TRUE(alive.connect(gw.smtp_address())) << "the gateway stopped answering after " << k.name;
    EXPECT_EQ(reply_code(alive.reply()), 220);
  }
  const long rss_end = rss_kib(gw.pid());
  std::cout << "RSS at start " << rss_start << " KiB, after the corpus " << rss_end << " KiB\n";
  EXPECT_LT(rss_end, 1024 * 1024) << "more than 1 GiB resident after the corpus";
  EXPECT_EQ(gw.stop(), 0);
}

}  // namespace
}  // namespace mailmoat::testing
