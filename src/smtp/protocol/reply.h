// SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC
// 2034): every reply mailmoat sends carries one. Multi-line replies use the
// "250-" continuation form.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::smtp {

struct Reply {
  int code = 250;
  std::string enhanced;  // "2.0.0"; empty only for 220/221 greetings where RFC 2034 forbids it
  std::vector<std::string> lines;

  Reply() = default;
  Reply(int c, std::string e, std::string text) : code(c), enhanced(std::move(e)), lines{std::move(text)} {}

  bool positive() const { return code < 400; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // Wire form with CRLF line endings.
  std::string wire() const;
  // One line for logs and the trace: "550 5.7.1 text".
  std::string summary() const;
};

}  // namespace mailmoat::smtp
