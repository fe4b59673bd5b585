// libFuzzer target: the rules' disclaimer action on an untrusted message (the
// shared MIME walk, GMime decoding, charset conversion, re-encoding) and the
// wrap fallback. Either every text part took it and the result still parses
// with the disclaimer's text somewhere in it, or there is a reason and the
// wrapped message parses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "filters/rules/disclaimer.h"
#include "mail/message.h"
#include "pipeline/chain.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string message = mailmoat::mail::normalize_line_endings(std::string(reinterpret_cast<const char*>(data), size));
  auto parsed = mailmoat::mail::Message::parse(message);
  mailmoat::pipeline::DisclaimerRequest request{"r", "Confidential \xc2\xa9 Corp\nline two", "", (data[0] & 1) != 0, "wrap"};
  if (data[0] & 2) request.html = "<p>Confidential &amp; <b>more</b></p>";
  auto result = mailmoat::filters::add_disclaimer(message, request);
  if (result.body) {
    if (!parsed || result.parts == 0 || !result.refused.empty()) std::abort();
    // Written as the filter chain writes it.
    std::string out = message;
    mailmoat::pipeline::Edits edits;
    edits.body = *result.body;
    mailmoat::pipeline::apply_edits(out, edits);
    if (!mailmoat::mail::Message::parse(out)) std::abort();
  } else {
    if (result.refused.empty()) std::abort();
    std::string boundary;
    std::string body = mailmoat::filters::wrap_with_disclaimer(message, request.text, boundary);
    if (body.find("--" + boundary + "--\r\n") == std::string::npos) std::abort();
    if (!mailmoat::mail::Message::parse("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n" + body))
      std::abort();
  }
  return 0;
}
