// A deterministic, realistic benchmark corpus for transport rules: messages
// with the header fields real mail carries (Received, Authentication-Results,
// DKIM-Signature, MIME) and multipart text/HTML bodies of 2-6 KB, and rule
// sets of N rules with mixed conditions (20% regex, 30% word lists, senders,
// recipients, client networks, authentication results). The same rules are
// also written as Postfix header_checks/body_checks lines for the peer run.
#pragma once

#include <string>
#include <vector>

namespace bench_rules {

struct Message {
  std::string bytes;  // CRLF
  std::string sender, recipient, client_ip;
};

std::vector<Message> make_messages(int n);
// The rules file text and the same logic as Postfix regexp/pcre table lines.
struct RuleText {
  std::string toml;
  std::vector<std::string> postfix_lines;
};
RuleText make_rules(int n);

}  // namespace bench_rules
