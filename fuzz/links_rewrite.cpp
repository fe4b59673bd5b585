// libFuzzer target: rewriting the links of a whole message (MIME walk, GMime
// decoding and encoding, the HTML scanner). A rewritten message must still parse, and a
// message without links must come back unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "links/mime_rewrite.h"
#include "mail/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string message = mailmoat::mail::normalize_line_endings(std::string(reinterpret_cast<const char*>(data), size));
  mailmoat::links::RewriteOptions options;
  options.max_urls = 50;
  auto outcome = mailmoat::links::rewrite_message(message, options, [](const std::string& url) -> std::optional<std::string> {
    if (url.size() % 3 == 0) return std::nullopt;  // exercise "left by policy" as well
    return "https://l.example/v1/l?u=" + std::to_string(url.size()) + "&s=x";
  });
  if (outcome.body) {
    if (outcome.rewritten == 0) std::abort();
    auto parsed = mailmoat::mail::Message::parse(message);
    if (!parsed) std::abort();
    std::string out = std::string(parsed->header_section()) + *outcome.body;
    if (!mailmoat::mail::Message::parse(out)) std::abort();
  }
  return 0;
}
