// Milter mode end to end: a private Postfix instance with smtpd_milters
// pointing at `mailmoat serve`, mail sent with swaks (or the raw client for
// several messages in one session), delivered to smtp-sink; DNS from a real
// unbound with the test zones. Checks what a Postfix administrator would.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"
#include "unbound_process.h"

namespace mailmoat::testing {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

std::string zone_lines() {
  return "  module-config: \"iterator\"\n  local-zone: \".\" static\n"
         "  local-data: 'example.com. TXT \"v=spf1 ip4:127.0.0.1 -all\"'\n"
         "  local-data: '_dmarc.example.com. TXT \"v=DMARC1; p=reject\"'\n"
         "  local-data: 'strict.example.net. TXT \"v=spf1 -all\"'\n"
         "  local-data: '_dmarc.strict.example.net. TXT \"v=DMARC1; p=reject\"'\n"
         "  local-data: 'soft.example.net. TXT \"v=spf1 -all\"'\n"
         "  local-data: '_dmarc.soft.example.net. TXT \"v=DMARC1; p=quarantine\"'\n"
         "  local-data: '1.0.0.127.in-addr.arpa. PTR mx.example.com.'\n"
         "  local-data: 'mx.example.com. A 127.0.0.1'\n";
}

// The gateway in milter mode; relay_networks decides whether Postfix's
// loopback client counts as inbound (the default here) or outbound.
std::vector<std::string> milter_overrides(int dns_port, const std::string& relay_networks = "[\"10.255.255.0/24\"]") {
  return {"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(dns_port) + "\"]",
          "auth.authserv_id=mx.mailmoat.test", "milter.listener.0.name=postfix",
          "milter.listener.0.address=127.0.0.1:0", "smtp.relay_networks=" + relay_networks};
}

std::string milter_address(const Gateway& gw) { return gw.ready()["milter"].value("postfix", ""); }

std::vector<std::string> postfix_lines(const std::string& milter, int sink_port,
                                       const std::string& default_action = "tempfail") {
  return {"smtpd_milters = inet:" + milter, "milter_default_action = " + default_action, "milter_protocol = 6",
          "relayhost = [127.0.0.1]:" + std::to_string(sink_port)};
}

struct Swaks {
  int exit_code;
  std::string out;
};

// swaks to Postfix; the message is read from a file so it is sent byte for byte.
Swaks swaks(const TempDir& dir, const std::string& server, const std::string& from, const std::string& to,
            const std::string& message) {
  dir.write("swaks.eml", message);
  std::string cmd = "swaks --server " + server + " --from " + from + " --to " + to + " --data " +
                    dir.file("swaks.eml") + " --helo client.example.com > " + dir.file("swaks.out") + " 2>&1";
  int rc = std::system(cmd.c_str());
  return {rc, slurp(dir.file("swaks.out"))};
}

std::string header_of(const std::string& dump) {
  std::string lf;
  for (char c : dump)
    if (c != '\r') lf += c;
  return lf.substr(0, lf.find("\n\n"));
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// Rows of a SQL query on the gateway's SQLite store, one per line.
std::string sql(const Gateway& gw, const std::string& query) {
  return shell("/usr/bin/python3 -c \"import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
               "[print(*r, sep='|') for r in c.execute(sys.argv[2])]\" " +
               gw.data_dir() + "/var/mailmoat.db \"" + query + "\"");
}

struct Fixture {
  test_support::UnboundProcess dns{"milter"};
  Gateway gw;
  SmtpSink sink;
  std::unique_ptr<Postfix> postfix;
  TempDir dir;

  bool start(std::vector<std::string> extra = {}, const std::string& relay = "[\"10.255.255.0/24\"]") {
    if (!dns.start(zone_lines())) return false;
    auto o = milter_overrides(dns.port(), relay);
    o.insert(o.end(), extra.begin(), extra.end());
    if (!gw.start(o)) return false;
    postfix = std::make_unique<Postfix>(free_port(), postfix_lines(milter_address(gw), sink.port()));
    return postfix->started();
  }
};

// A DNS server that never answers: a bound UDP socket nobody reads.
struct SilentDns {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int port = 0;
  SilentDns() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentDns() { close(fd); }
};

// The message from the first line starting with `field`, with CRLF line ends.
std::string message_from(const std::string& dump, const std::string& field) {
  std::size_t at = dump.rfind(field, 0) == 0 ? 0 : dump.find("\n" + field);
  if (at == std::string::npos) return {};
  std::string out;
  for (std::size_t i = (at == 0 ? 0 : at + 1); i < dump.size(); ++i) {
    if (dump[i] == '\r') continue;
    out += dump[i] == '\n' ? std::string("\r\n") : std::string(1, dump[i]);
  }
  return out;
}

}  // namespace

TEST(Milter, AuthenticationResultsAddedAndForgedCopiesRemoved) {
  Fixture f;
  ASSERT_TRUE(f.start()) << f.gw.log();
  std::string msg =
      "Authentication-Results: mx.mailmoat.test; dmarc=pass header.from=bank.example\r\n"
      "Authentication-Results: other.example; spf=fail\r\n"
      "From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: via milter\r\n"
      "Message-ID: <m1@example.com>\r\n\r\nhello through postfix\r\n";
  auto r = swaks(f.dir, f.postfix->address(), "alice@example.com", "bob@example.net", msg);
  ASSERT_EQ(r.exit_code, 0) << r.out << f.gw.log();
  auto mail = f.sink.wait_for(1);
  ASSERT_EQ(mail.size(), 1u) << f.postfix->maillog();
  std::string h = header_of(mail[0]);
  EXPECT_EQ(h.find("bank.example"), std::string::npos) << h;
  EXPECT_EQ(count(h, "Authentication-Results: mx.mailmoat.test;"), 1u) << h;
  EXPECT_NE(h.find("spf=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("dmarc=pass"), std::string::npos) << h;
  EXPECT_NE(h.find("Authentication-Results: other.example; spf=fail"), std::string::npos) << h;
  EXPECT_NE(mail[0].find("hello through postfix"), std::string::npos);
  // The trace has the message under mailmoat's id with Postfix's queue id beside it.
  std::string rows;
  for (int i = 0; i < 50 && rows.find("mta_queue_id") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    rows = sql(f.gw, "select e.detail from trace_events e join trace_records r using (trace_id) "
                     "where r.subject = 'via milter' and e.type = 'received'");
  }
  auto at = rows.find("\"mta_queue_id\":\"");
  ASSERT_NE(at, std::string::npos) << rows;
  std::string mta_id = rows.substr(at + 16, rows.find('"', at + 16) - at - 16);
  EXPECT_FALSE(mta_id.empty());
  EXPECT_NE(f.postfix->maillog().find(mta_id + ": "), std::string::npos) << mta_id << "\n" << f.postfix->maillog();
}

// The unfolded value of the Authentication-Results field with our authserv-id.
std::string our_results(const std::string& mail) {
  std::string h = header_of(mail);
  std::size_t at = h.find("Authentication-Results: mx.mailmoat.test;");
  if (at == std::string::npos) return {};
  std::size_t end = at;
  do end = h.find('\n', end + 1);
  while (end != std::string::npos && end + 1 < h.size() && (h[end + 1] == ' ' || h[end + 1] == '\t'));
  std::string field = h.substr(at, end == std::string::npos ? std::string::npos : end - at), out;
  for (char c : field) out += (c == '\n' || c == '\t') ? ' ' : c;
  return out;
}

TEST(Milter, SameAuthenticationResultsAsTheSmtpFrontEnd) {
  Fixture f;
  ASSERT_TRUE(f.start({"smtp.accepted_domains=[\"localhost\"]"})) << f.gw.log();
  const std::string msg = "From: Alice <alice@example.com>\r\nSubject: twice\r\nMessage-ID: <t@example.com>\r\n\r\nsame\r\n";
  SmtpClient c;
  ASSERT_TRUE(c.connect(f.gw.smtp_address()));
  ASSERT_EQ(reply_code(c.send_message("alice@example.com", {"u@localhost"}, msg)), 250);
  auto direct = wait_for_mail(f.gw.data_dir(), "u@localhost", 1);
  ASSERT_EQ(direct.size(), 1u) << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "alice@example.com", "bob@example.net", msg);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto via_milter = f.sink.wait_for(1);
  ASSERT_EQ(via_milter.size(), 1u);
  std::string a = our_results(direct[0]), b = our_results(via_milter[0]);
  EXPECT_FALSE(a.empty()) << direct[0];
  EXPECT_EQ(a, b) << "SMTP:\n" << direct[0] << "\nmilter:\n" << via_milter[0];
}

TEST(Milter, DmarcRejectIsRefusedAtSmtpTimeWithMailmoatsText) {
  Fixture f;
  ASSERT_TRUE(f.start()) << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "ceo@strict.example.net", "bob@example.net",
                 "From: ceo@strict.example.net\r\nSubject: wire money\r\n\r\nnow\r\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.out.find("<** 550 5.7.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DMARC"), std::string::npos) << r.out;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(f.sink.messages().empty());
  EXPECT_NE(f.postfix->maillog().find("milter-reject: END-OF-MESSAGE"), std::string::npos) << f.postfix->maillog();
  // The trace says so, as it does for a refusal by the SMTP front end.
  std::string status;
  for (int i = 0; i < 50 && status.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = sql(f.gw, "select status from trace_records where subject = 'wire money'");
  }
  EXPECT_EQ(status, "rejected\n");
}

TEST(Milter, QuarantineVerdictLandsInPostfixHoldQueue) {
  Fixture f;
  ASSERT_TRUE(f.start({"auth.dmarc_on_quarantine=quarantine"})) << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "news@soft.example.net", "bob@example.net",
                 "From: news@soft.example.net\r\nSubject: maybe\r\n\r\nbody\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string q;
  for (int i = 0; i < 50 && q.find("\"hold\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    q = shell("postqueue -c " + f.postfix->queue_dir() + "/.. -j 2>&1");
  }
  EXPECT_NE(q.find("\"queue_name\": \"hold\""), std::string::npos) << q << f.postfix->maillog();
  EXPECT_NE(q.find("news@soft.example.net"), std::string::npos) << q;
  EXPECT_TRUE(f.sink.messages().empty());
  EXPECT_NE(f.postfix->maillog().find("milter-hold: END-OF-MESSAGE"), std::string::npos) << f.postfix->maillog();
  std::string status;
  for (int i = 0; i < 50 && status.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = sql(f.gw, "select status from trace_records where subject = 'maybe'");
  }
  EXPECT_EQ(status, "quarantined\n");
}

TEST(Milter, TransportRuleQuarantineLandsInPostfixHoldQueue) {
  Fixture f;
  f.dir.write("rules.toml",
              "[[rule]]\nname = \"hold for review\"\npriority = 10\n"
              "conditions = [{ subject = { words = [\"TOKEN-MQ\"] } }]\nactions = [{ quarantine = true }]\n");
  ASSERT_TRUE(f.start({"rules.file=\"" + f.dir.file("rules.toml") + "\""})) << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "alice@example.com", "bob@example.net",
                 "From: alice@example.com\r\nSubject: TOKEN-MQ review\r\n\r\nbody\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::string q;
  for (int i = 0; i < 50 && q.find("\"hold\"") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    q = shell("postqueue -c " + f.postfix->queue_dir() + "/.. -j 2>&1");
  }
  EXPECT_NE(q.find("\"queue_name\": \"hold\""), std::string::npos) << q << f.postfix->maillog();
  EXPECT_TRUE(f.sink.messages().empty());
  // A message the rule does not match passes.
  auto ok = swaks(f.dir, f.postfix->address(), "alice@example.com", "bob@example.net",
                  "From: alice@example.com\r\nSubject: fine\r\n\r\nbody\r\n");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  for (int i = 0; i < 50 && f.sink.messages().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(f.sink.messages().size(), 1u);
  std::string trace;
  for (int i = 0; i < 50 && trace.find("hold for review") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    trace = sql(f.gw, "select detail from trace_events where detail like '%hold for review%'");
  }
  EXPECT_NE(trace.find("hold for review"), std::string::npos);
}

TEST(Milter, LinksAreRewrittenInTheBodyPostfixDelivers) {
  Fixture f;
  ASSERT_TRUE(f.start({"links.enabled=true", "links.public_url=\"https://links.mailmoat.test\"",
                       "smtp.accepted_domains=[\"example.net\"]"}))
      << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "alice@example.com", "bob@example.net",
                 "From: alice@example.com\r\nSubject: links\r\nContent-Type: text/plain\r\n\r\n"
                 "See https://news.example.org/story?id=7 today.\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (int i = 0; i < 50 && f.sink.messages().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(f.sink.messages().size(), 1u) << f.postfix->maillog();
  const std::string m = f.sink.messages()[0];
  EXPECT_NE(m.find("https://links.mailmoat.test/v1/l?u=https%3A%2F%2Fnews.example.org%2Fstory%3Fid%3D7"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("See https://news.example.org/story?id=7 today."), std::string::npos) << m;
}

TEST(Milter, SeveralMessagesAndAnAbortInOneSession) {
  Fixture f;
  ASSERT_TRUE(f.start()) << f.gw.log();
  SmtpClient c;
  ASSERT_TRUE(c.connect(f.postfix->address()));
  ASSERT_EQ(reply_code(c.begin_transaction("alice@example.com")), 250);
  ASSERT_EQ(reply_code(c.command("RCPT TO:<bob@example.net>")), 250);
  ASSERT_EQ(reply_code(c.command("RSET")), 250);  // Postfix tells the milter to abort
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(reply_code(c.command("MAIL FROM:<alice@example.com>")), 250);
    ASSERT_EQ(reply_code(c.command("RCPT TO:<bob@example.net>")), 250);
    ASSERT_EQ(reply_code(c.command("DATA")), 354);
    c.send("From: alice@example.com\r\nSubject: number " + std::to_string(i) + "\r\n\r\nbody\r\n.\r\n");
    EXPECT_EQ(reply_code(c.reply()), 250);
  }
  c.command("QUIT");
  auto mail = f.sink.wait_for(2);
  ASSERT_EQ(mail.size(), 2u) << f.postfix->maillog();
  for (const auto& m : mail) EXPECT_EQ(count(header_of(m), "Authentication-Results: mx.mailmoat.test;"), 1u) << m;
}

TEST(Milter, OutboundMessageIsDkimSignedAndVerifiesInDkimpy) {
  TempDir keys;
  auto k = run({"keygen", "--domain", "example.com", "--selector", "s1", "--out", keys.file("s1.pem")});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  std::string record;  // the quoted strings of keygen's zone line, joined
  for (std::size_t q = k.out.find('"'); q != std::string::npos; q = k.out.find('"', q + 1)) {
    std::size_t end = k.out.find('"', q + 1);
    record += k.out.substr(q + 1, end - q - 1);
    q = end;
  }
  keys.write("keys.tsv", "s1._domainkey.example.com\t" + record + "\n");
  Fixture f;
  // Postfix's loopback client is in the relay networks: outbound, so signed.
  ASSERT_TRUE(f.start({"dkim.key.0.domain=example.com", "dkim.key.0.selector=s1",
                       "dkim.key.0.key_file=" + keys.file("s1.pem")},
                      "[\"127.0.0.0/8\"]"))
      << f.gw.log();
  auto r = swaks(f.dir, f.postfix->address(), "joe@example.com", "sue@remote.test",
                 "From: Joe <joe@example.com>\r\nTo: Sue <sue@remote.test>\r\nSubject: Lunch\r\n"
                 "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nAre you hungry?\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto mail = f.sink.wait_for(1);
  ASSERT_EQ(mail.size(), 1u) << f.postfix->maillog();
  std::string signed_part = message_from(mail[0], "DKIM-Signature:");
  ASSERT_FALSE(signed_part.empty()) << mail[0];
  EXPECT_NE(signed_part.find("d=example.com"), std::string::npos) << signed_part;
  EXPECT_EQ(header_of(mail[0]).find("Authentication-Results: mx.mailmoat.test"), std::string::npos);  // not checked
  keys.write("msg.eml", signed_part);
  std::string verdict = shell("/usr/bin/python3 " + std::string(MAILMOAT_SOURCE_DIR) +
                              "/tests/auth/dkim/peers/dkimpy_peer.py verify " + keys.file("msg.eml") + " " +
                              keys.file("keys.tsv"));
  EXPECT_EQ(verdict, "pass\n") << signed_part;
}

TEST(Milter, ChecksPastTheBudgetFollowTheListenerPolicy) {
  SilentDns silent;  // the auth checks wait on DNS for longer than the budget
  TempDir dir;
  SmtpSink sink;
  for (const std::string policy : {"tempfail", "accept", "quarantine"}) {
    Gateway gw;
    ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(silent.port) + "\"]",
                          "milter.listener.0.name=postfix", "milter.listener.0.address=127.0.0.1:0",
                          "milter.listener.0.budget_ms=300", "milter.listener.0.on_budget_exceeded=" + policy,
                          "smtp.relay_networks=[\"10.255.255.0/24\"]"}))
        << gw.log();
    Postfix postfix(free_port(), postfix_lines(milter_address(gw), sink.port()));
    ASSERT_TRUE(postfix.started());
    auto r = swaks(dir, postfix.address(), "alice@example.com", "bob@example.net",
                   "From: alice@example.com\r\nSubject: slow " + policy + "\r\n\r\nx\r\n");
    if (policy == "tempfail") {
      EXPECT_NE(r.out.find("<** 451 4.7.0"), std::string::npos) << r.out;
    } else if (policy == "accept") {
      EXPECT_EQ(r.exit_code, 0) << r.out;
      auto mail = sink.wait_for(1);
      ASSERT_EQ(mail.size(), 1u);
      EXPECT_EQ(mail[0].find("Authentication-Results"), std::string::npos) << mail[0];  // passed on unchanged
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.out;
      std::string q;
      for (int i = 0; i < 50 && q.find("\"hold\"") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        q = shell("postqueue -c " + postfix.queue_dir() + "/.. -j 2>&1");
      }
      EXPECT_NE(q.find("\"queue_name\": \"hold\""), std::string::npos) << q;
    }
    EXPECT_NE(gw.log().find("milter.filter_budget_exceeded"), std::string::npos) << gw.log();
  }
  EXPECT_EQ(sink.messages().size(), 1u);  // only the accepted one
}

// Postfix gives a milter milter_content_timeout (here 2 s) per reply; mailmoat's
// SMFIR_PROGRESS restarts it, so a chain that needs 3 s (DNS silent, auth gives
// up after 60% of 5 s) still answers within a longer listener budget.
TEST(Milter, ProgressKeepsPostfixWaitingPastItsContentTimeout) {
  SilentDns silent;
  TempDir dir;
  SmtpSink sink;
  for (const std::string progress : {"1", "5"}) {
    Gateway gw;
    ASSERT_TRUE(gw.start({"dns.zone_files=[]", "dns.forwarders=[\"127.0.0.1@" + std::to_string(silent.port) + "\"]",
                          "auth.authserv_id=mx.mailmoat.test", "milter.listener.0.name=postfix",
                          "milter.listener.0.address=127.0.0.1:0", "milter.listener.0.budget_ms=8000",
                          "milter.progress_seconds=" + progress, "smtp.filter_budget_ms=5000",
                          "smtp.relay_networks=[\"10.255.255.0/24\"]"}))
        << gw.log();
    auto lines = postfix_lines(milter_address(gw), sink.port());
    lines.push_back("milter_content_timeout = 2s");
    Postfix postfix(free_port(), lines);
    ASSERT_TRUE(postfix.started());
    auto r = swaks(dir, postfix.address(), "alice@example.com", "bob@example.net",
                   "From: alice@example.com\r\nSubject: progress " + progress + "\r\n\r\nx\r\n");
    if (progress == "1") {
      EXPECT_EQ(r.exit_code, 0) << r.out << postfix.maillog();
      auto mail = sink.wait_for(1);
      ASSERT_EQ(mail.size(), 1u);
      EXPECT_NE(our_results(mail[0]).find("temperror"), std::string::npos) << mail[0];
    } else {
      // Without a progress report inside 2 s, Postfix gives up on the milter.
      EXPECT_NE(r.out.find("<** 451 4.7.1"), std::string::npos) << r.out;
    }
  }
  EXPECT_EQ(sink.messages().size(), 1u);
}

TEST(Milter, UnixSocketListener) {
  test_support::UnboundProcess dns("milter-unix");
  ASSERT_TRUE(dns.start(zone_lines()));
  TempDir sockets;
  chmod(sockets.path().c_str(), 0755);  // Postfix's smtpd runs as user postfix
  const std::string path = sockets.file("milter.sock");
  Gateway gw;
  auto o = milter_overrides(dns.port());
  o.push_back("milter.listener.0.address=unix:" + path);
  ASSERT_TRUE(gw.start(o)) << gw.log();
  EXPECT_EQ(milter_address(gw), "unix:" + path);
  SmtpSink sink;
  Postfix postfix(free_port(), {"smtpd_milters = unix:" + path, "milter_default_action = tempfail",
                                "relayhost = [127.0.0.1]:" + std::to_string(sink.port())});
  ASSERT_TRUE(postfix.started());
  TempDir dir;
  auto r = swaks(dir, postfix.address(), "alice@example.com", "bob@example.net",
                 "From: alice@example.com\r\nSubject: unix\r\n\r\nx\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.out << postfix.maillog();
  auto mail = sink.wait_for(1);
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_NE(our_results(mail[0]).find("spf=pass"), std::string::npos) << mail[0];
  EXPECT_EQ(gw.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(path));  // removed at exit
}

TEST(Milter, MailmoatDownFollowsMilterDefaultAction) {
  SmtpSink sink;
  TempDir dir;
  const std::string nobody = "127.0.0.1:" + std::to_string(free_port());  // nothing listens there
  {
    Postfix tempfail(free_port(), postfix_lines(nobody, sink.port(), "tempfail"));
    ASSERT_TRUE(tempfail.started());
    auto r = swaks(dir, tempfail.address(), "alice@example.com", "bob@example.net", "Subject: t\r\n\r\nx\r\n");
    EXPECT_NE(r.out.find("<** 451 4.7.1"), std::string::npos) << r.out;
  }
  Postfix accept(free_port(), postfix_lines(nobody, sink.port(), "accept"));
  ASSERT_TRUE(accept.started());
  auto r = swaks(dir, accept.address(), "alice@example.com", "bob@example.net", "Subject: a\r\n\r\nx\r\n");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(sink.wait_for(1).size(), 1u) << accept.maillog();
}

}  // namespace mailmoat::testing
