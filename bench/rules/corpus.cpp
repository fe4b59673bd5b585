#include "corpus.h"

#include <random>

namespace bench_rules {

namespace {

const std::vector<std::string> kWords = {
    "meeting", "report", "invoice", "quarterly", "budget", "review", "project", "update", "schedule", "team",
    "customer", "contract", "payment", "delivery", "order", "account", "password", "security", "offer", "discount",
    "lottery", "winner", "urgent", "transfer", "bank", "crypto", "bitcoin", "free", "click", "unsubscribe",
    "newsletter", "event", "conference", "travel", "hotel", "flight", "receipt", "shipping", "tracking", "support"};
const std::vector<std::string> kDomains = {"example.com", "example.net", "partner.example", "news.example",
                                           "shop.example", "bank.example", "mail.example.org", "corp.example"};

std::string words(std::mt19937& rng, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += (i ? " " : "") + kWords[rng() % kWords.size()];
    if (i % 14 == 13) out += ".\r\n";
  }
  return out;
}

}  // namespace

std::vector<Message> make_messages(int n) {
  std::mt19937 rng(42);
  std::vector<Message> out;
  for (int i = 0; i < n; ++i) {
    Message m;
    std::string from_domain = kDomains[rng() % kDomains.size()];
    m.sender = "user" + std::to_string(rng() % 500) + "@" + from_domain;
    m.recipient = "staff" + std::to_string(rng() % 50) + "@corp.example";
    m.client_ip = "198.51." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
    const char* spf = rng() % 5 == 0 ? "fail" : "pass";
    std::string subject = words(rng, 3 + rng() % 5);
    std::string text = words(rng, 300 + rng() % 600);
    std::string& b = m.bytes;
    b += "Authentication-Results: mx.corp.example; spf=" + std::string(spf) + " smtp.mailfrom=" + from_domain +
         "; dkim=pass header.d=" + from_domain + "; dmarc=pass header.from=" + from_domain + "\r\n";
    b += "Received: from mx" + std::to_string(i % 7) + "." + from_domain + " (mx." + from_domain + " [" + m.client_ip +
         "])\r\n\tby mx.corp.example (mailmoat) with ESMTPS id " + std::to_string(100000 + i) +
         "\r\n\tfor <" + m.recipient + ">; Mon, 2 Nov 2026 10:00:00 +0000\r\n";
    b += "Received: from internal.relay (internal.relay [10.1.2.3])\r\n\tby mx." + from_domain +
         " with ESMTP; Mon, 2 Nov 2026 09:59:58 +0000\r\n";
    b += "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=" + from_domain +
         "; s=sel; h=from:to:subject:date;\r\n\tbh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
         "\tb=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZSBidXQgaXQgaGFzIHRoZSByaWdodCBzaGFwZQ==\r\n";
    b += "From: \"User " + std::to_string(i) + "\" <" + m.sender + ">\r\nTo: <" + m.recipient + ">\r\n";
    b += "Subject: " + subject + "\r\nDate: Mon, 2 Nov 2026 09:59:57 +0000\r\n";
    b += "Message-ID: <" + std::to_string(rng()) + "@" + from_domain + ">\r\nMIME-Version: 1.0\r\n";
    b += "X-Mailer: " + std::string(rng() % 10 == 0 ? "BulkBlaster 9" : "Thunderbird 115") + "\r\n";
    b += "Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n";
    b += "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + text + "\r\n";
    b += "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + text.substr(0, 800) +
         "</p></body></html>\r\n--b1--\r\n";
    out.push_back(std::move(m));
  }
  return out;
}

RuleText make_rules(int n) {
  std::mt19937 rng(7);
  RuleText out;
  for (int i = 0; i < n; ++i) {
    std::string cond, pf;
    std::string w1 = kWords[rng() % kWords.size()] + std::to_string(i % 3 == 0 ? i : 0);
    if (i % 3 != 0) w1 = kWords[rng() % kWords.size()];
    std::string w2 = kWords[rng() % kWords.size()], w3 = kWords[rng() % kWords.size()];
    std::string d = "d" + std::to_string(i) + "." + kDomains[rng() % kDomains.size()];
    switch (i % 10) {
      case 0:  // regex on the subject
        cond = "subject = { regex = ['" + w1 + "\\s+[a-z]+\\s+" + w2 + "'] }";
        pf = "/^Subject:.*" + w1 + "[[:space:]]+[a-z]+[[:space:]]+" + w2 + "/";
        break;
      case 1:  // regex on the body
        cond = "body = { regex = ['" + w2 + "[0-9]{2,}'] }";
        pf = "/" + w2 + "[0-9]{2,}/";
        break;
      case 2: case 3:  // word lists on subject or body
        cond = "subject_or_body = { words = [\"" + w1 + "x\", \"" + w2 + "y" + std::to_string(i) + "\", \"" + w3 + "z\"] }";
        pf = "/(^|[^[:alnum:]_])(" + w1 + "x|" + w2 + "y" + std::to_string(i) + "|" + w3 + "z)([^[:alnum:]_]|$)/";
        break;
      case 4:  // word list on one header
        cond = "header = { name = \"X-Mailer\", words = [\"" + w1 + "mailer\"] }";
        pf = "/^X-Mailer:.*(^|[^[:alnum:]_])" + w1 + "mailer([^[:alnum:]_]|$)/";
        break;
      case 5: case 6:  // sender domain
        cond = "sender_domain = { is = [\"" + d + "\"], glob = [\"*.x" + std::to_string(i) + ".example\"] }";
        pf = "/^From:.*@(" + d + "|.*\\.x" + std::to_string(i) + "\\.example)>?$/";
        break;
      case 7:  // recipient
        cond = "recipient_address = \"nobody" + std::to_string(i) + "@corp.example\"";
        pf = "/^To:.*nobody" + std::to_string(i) + "@corp\\.example/";
        break;
      case 8:  // client network
        cond = "sender_ip = \"203.0." + std::to_string(i % 256) + ".0/24\"";
        pf = "/^Received: from .*\\[203\\.0\\." + std::to_string(i % 256) + "\\.[0-9]+\\]/";
        break;
      case 9:  // authentication results, plus a header regex
        cond = "spf = \"softfail\" }, { header = { name = \"Authentication-Results\", regex = ['dkim=fail header.d=" + d + "'] }";
        pf = "/^Authentication-Results:.*dkim=fail header\\.d=" + d + "/";
        break;
    }
    out.toml += "[[rule]]\nname = \"r" + std::to_string(i) + "\"\npriority = " + std::to_string(i) +
                "\nconditions = [{ " + cond + " }]\nactions = [{ set_header = { name = \"X-R\", value = \"" +
                std::to_string(i) + "\" } }]\n";
    out.postfix_lines.push_back(pf + " WARN r" + std::to_string(i));
  }
  return out;
}

}  // namespace bench_rules
