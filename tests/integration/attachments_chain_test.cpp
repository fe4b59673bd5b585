// Safe Attachments and the filters after it (issue 9, docs/decisions.md "A hold
// does not end the filter chain"): a message held in the queue for analysis,
// a per-policy copy and a Dynamic Delivery original each get what a message
// delivered at once gets: the second rules pass (attachment facts), the SCL
// stamp, the rules' disclaimer and the DKIM signature (checked by dkimpy).
// Real SMTP in; Maildir and smtp-sink out; quarantine store checked.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <regex>
#include <thread>

#include "harness.h"
#include "samples.h"

namespace mailmoat::testing {
namespace {

namespace s = test_samples;

const std::string kDkimPeer = std::string(MAILMOAT_SOURCE_DIR) + "/tests/auth/dkim/peers/dkimpy_peer.py";

constexpr const char* kRules = R"(
[[rule]]
name = "footer"
priority = 1
conditions = [{ subject = { words = ["TOKEN-HELD"] } }]
actions = [{ disclaimer = { text = "Held footer from the rules." } }]

[[rule]]
name = "pending tag"
priority = 2
conditions = [{ attachment_verdict = "pending" }]
actions = [{ set_header = { name = "X-Attachment-State", value = "pending-at-end-of-data" } }]
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

std::string queue_id(const std::string& reply) {
  auto at = reply.find("queued as ");
  if (at == std::string::npos) return {};
  std::string id = reply.substr(at + 10);
  while (!id.empty() && (id.back() == '\r' || id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::string trace_until(const Gateway& gw, const std::string& id, const std::string& what) {
  std::string t;
  for (int i = 0; i < 200; ++i) {
    auto r = run({"trace", "show", id, "--json", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                  "http.listen=" + gw.http_address()});
    t = r.out + r.err;
    if (t.find(what) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return t;
}

bool quarantined(const Gateway& gw, const std::string& id) {
  for (int i = 0; i < 200; ++i) {
    auto r = run({"quarantine", "list", "--json", "--set", "server.data_dir=" + gw.data_dir() + "/var", "--set",
                  "http.listen=" + gw.http_address()});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (!j.is_discarded())
      for (const auto& item : j["items"])
        if (item.value("queue_id", "") == id) return item.value("reason", "") == "malware";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A gateway whose inbound mail goes to Maildir (u@localhost, analyst@lab.example) and whose
// relay listener's mail goes to smtp-sink, DKIM-signed for example.com; every analysis
// happens after queueing (fast_path_ms = 0), so every message with an attachment is held.
struct HeldGateway {
  TempDir dir;
  SmtpSink sink;
  Gateway gw;
  std::string record;  // the DKIM public key record, for dkimpy
  bool start(std::vector<std::string> extra = {}) {
    auto key = run({"keygen", "--domain", "example.com", "--selector", "s1", "--algorithm", "rsa", "--out",
                    dir.file("s1.pem")});
    if (key.exit_code != 0) return false;
    for (std::size_t q = key.out.find('"'); q != std::string::npos; q = key.out.find('"', q + 1)) {
      std::size_t end = key.out.find('"', q + 1);
      record += key.out.substr(q + 1, end - q - 1);
      q = end;
    }
    dir.write("keys.tsv", "s1._domainkey.example.com\t" + record + "\n");
    dir.write("rules.toml", kRules);
    std::vector<std::string> o{"smtp.listener.1.name=relay", "smtp.listener.1.role=relay",
                               "smtp.listener.1.address=127.0.0.1:0",
                               "smtp.accepted_domains=[\"localhost\",\"lab.example\"]",
                               "route.0.domains=[\"localhost\",\"lab.example\"]", "route.0.transport=maildir",
                               "route.1.domains=[\"*\"]", "route.1.transport=relay",
                               "route.1.next_hop=[127.0.0.1]:" + std::to_string(sink.port()),
                               "queue.retry_base_seconds=1", "dkim.key.0.domain=example.com",
                               "dkim.key.0.selector=s1", "dkim.key.0.key_file=" + dir.file("s1.pem"),
                               "rules.file=" + dir.file("rules.toml"), "attachments.workers=1",
                               "attachments.fast_path_ms=0", "attachments.policy.0.action=block",
                               "attachments.policy.0.budget_ms=20000", "attachments.policy.0.analyze_internal=true"};
    for (auto& e : extra) o.push_back(std::move(e));
    return gw.start(o);
  }
  std::string send(const std::string& listener, const std::string& from, std::vector<std::string> to,
                   const std::string& message) {
    SmtpClient c;
    if (!c.connect(gw.smtp_address(listener))) return "connect failed";
    return c.send_message(from, to, message);
  }
  // dkimpy's verdict on a message as smtp-sink dumped it (from the signature on, CRLF).
  std::string dkim_verify(const std::string& dump) {
    std::size_t at = dump.rfind("DKIM-Signature:", 0) == 0 ? 0 : dump.find("\nDKIM-Signature:");
    if (at == std::string::npos) return "no signature";
    if (at != 0) ++at;
    std::string lf, crlf;
    for (std::size_t i = at; i < dump.size(); ++i)
      if (dump[i] != '\r') lf += dump[i];
    for (char ch : lf) crlf += ch == '\n' ? std::string("\r\n") : std::string(1, ch);
    dir.write("msg.eml", crlf);
    return shell("/usr/bin/python3 " + kDkimPeer + " verify " + dir.file("msg.eml") + " " + dir.file("keys.tsv"));
  }
};

TEST(AttachmentsChain, HeldThenReleasedRelayMailIsSignedWithTheDisclaimerAndVerifiesInDkimpy) {
  HeldGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  std::string r = g.send("relay", "joe@example.com", {"sue@remote.example"},
                         s::message("Quarterly figures attached.", {{"paper.pdf", "application/pdf", s::plain_pdf()}},
                                    "joe@example.com", "sue@remote.example", "TOKEN-HELD figures"));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto got = g.sink.wait_for(1, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), 1u) << g.gw.log();
  const std::string& m = got[0];
  EXPECT_NE(m.find("Held footer from the rules."), std::string::npos) << m;
  EXPECT_NE(m.find("X-Attachment-State: pending-at-end-of-data"), std::string::npos) << m;
  EXPECT_EQ(g.dkim_verify(m), "pass\n") << m;
  // It was held for analysis and released by it, not delivered at once.
  std::string t = trace_until(g.gw, queue_id(r), "hold_done");
  EXPECT_NE(t.find("analysis pending"), std::string::npos) << t;
  EXPECT_NE(t.find("outcome=released"), std::string::npos) << t;
}

TEST(AttachmentsChain, HeldThenReleasedInboundMailCarriesTheSclStampAndTheDisclaimer) {
  HeldGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  std::string r = g.send("inbound", "ann@sender.example", {"u@localhost"},
                         s::message("Scan attached.", {{"scan.pdf", "application/pdf", s::plain_pdf()}},
                                    "ann@sender.example", "u@localhost", "TOKEN-HELD scan"));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto box = wait_for_mail(g.gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(box.size(), 1u) << g.gw.log();
  EXPECT_NE(box[0].find("X-Mailmoat-SCL: "), std::string::npos) << box[0];
  EXPECT_NE(box[0].find("X-Mailmoat-Verdict: deliver; scl="), std::string::npos) << box[0];
  EXPECT_NE(box[0].find("Held footer from the rules."), std::string::npos) << box[0];
  std::string t = trace_until(g.gw, queue_id(r), "hold_done");
  EXPECT_NE(t.find("outcome=released"), std::string::npos) << t;
}

TEST(AttachmentsChain, HeldMaliciousMailIsQuarantinedAndNothingIsDelivered) {
  HeldGateway g;
  ASSERT_TRUE(g.start()) << g.gw.log();
  std::string r = g.send("relay", "joe@example.com", {"sue@remote.example"},
                         s::message("Invoice.", {{"invoice.docm", "application/octet-stream", s::docm_with_autoopen()}},
                                    "joe@example.com", "sue@remote.example", "TOKEN-HELD invoice"));
  ASSERT_EQ(reply_code(r), 250) << r;
  EXPECT_TRUE(quarantined(g.gw, queue_id(r))) << g.gw.log();
  std::string t = trace_until(g.gw, queue_id(r), "hold_done");
  EXPECT_NE(t.find("outcome=quarantined"), std::string::npos) << t;
  // A clean message sent after it arrives; the malicious one never does.
  ASSERT_EQ(reply_code(g.send("relay", "joe@example.com", {"sue@remote.example"},
                              s::message("Clean.", {{"ok.pdf", "application/pdf", s::plain_pdf()}}, "joe@example.com",
                                         "sue@remote.example", "second"))),
            250);
  auto got = g.sink.wait_for(1, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("Subject: second"), std::string::npos) << got[0];
  EXPECT_EQ(got[0].find("invoice.docm"), std::string::npos);
}

TEST(AttachmentsChain, APerPolicyCopyGetsTheSclStampAndTheDisclaimer) {
  HeldGateway g;
  ASSERT_TRUE(g.start({"attachments.policy.1.name=lab", "attachments.policy.1.priority=10",
                       "attachments.policy.1.recipient_domains=[\"lab.example\"]",
                       "attachments.policy.1.action=monitor"}))
      << g.gw.log();
  // u@localhost (block) stays on the message; analyst@lab.example (monitor) goes as a copy.
  std::string r = g.send("inbound", "ann@sender.example", {"u@localhost", "analyst@lab.example"},
                         s::message("Two policies.", {{"paper.pdf", "application/pdf", s::plain_pdf()}},
                                    "ann@sender.example", "u@localhost", "TOKEN-HELD split"));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto copy = wait_for_mail(g.gw.data_dir(), "analyst@lab.example", 1, std::chrono::seconds(30));
  ASSERT_EQ(copy.size(), 1u) << g.gw.log();
  EXPECT_NE(copy[0].find("X-Mailmoat-SCL: "), std::string::npos) << copy[0];
  EXPECT_NE(copy[0].find("Held footer from the rules."), std::string::npos) << copy[0];
  auto held = wait_for_mail(g.gw.data_dir(), "u@localhost", 1, std::chrono::seconds(30));
  ASSERT_EQ(held.size(), 1u) << g.gw.log();
  EXPECT_NE(held[0].find("X-Mailmoat-SCL: "), std::string::npos) << held[0];
  EXPECT_NE(held[0].find("Held footer from the rules."), std::string::npos) << held[0];
  EXPECT_NE(trace_until(g.gw, queue_id(r), "go as message").find("(policy lab) go as message"), std::string::npos);
}

TEST(AttachmentsChain, ADynamicDeliveryOriginalIsSignedWithTheDisclaimerWhenDeliveredInFull) {
  HeldGateway g;
  const std::string http = "127.0.0.1:" + std::to_string(free_port());
  ASSERT_TRUE(g.start({"http.listen=" + http, "attachments.policy.0.action=dynamic_delivery",
                       "attachments.policy.0.deliver_original=true"}))
      << g.gw.log();
  std::string r = g.send("relay", "joe@example.com", {"sue@remote.example"},
                         s::message("Body at once.", {{"paper.pdf", "application/pdf", s::plain_pdf()}},
                                    "joe@example.com", "sue@remote.example", "TOKEN-HELD dynamic"));
  ASSERT_EQ(reply_code(r), 250) << r;
  auto got = g.sink.wait_for(2, std::chrono::seconds(60));
  ASSERT_EQ(got.size(), 2u) << g.gw.log();
  const bool first_is_original = got[0].find("X-Mailmoat-Dynamic-Delivery: original") != std::string::npos;
  const std::string& original = first_is_original ? got[0] : got[1];
  const std::string& placeholder = first_is_original ? got[1] : got[0];
  EXPECT_NE(placeholder.find("is scanning the attachment \"paper.pdf\""), std::string::npos) << placeholder;
  EXPECT_NE(original.find("filename=\"paper.pdf\""), std::string::npos) << original;
  for (const std::string* m : {&original, &placeholder}) {
    EXPECT_NE(m->find("Held footer from the rules."), std::string::npos) << *m;
    EXPECT_EQ(g.dkim_verify(*m), "pass\n") << *m;
  }
}

}  // namespace
}  // namespace mailmoat::testing
