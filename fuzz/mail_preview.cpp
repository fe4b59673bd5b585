// libFuzzer target: the quarantine preview (GMime MIME walk, RFC 2047 header
// decoding, gumbo HTML reduction) over arbitrary bytes; checks the promise
// that the output is bounded and free of control characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mail/preview.h"

namespace {
void check_clean(const std::string& s, bool multiline) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    bool ok = u >= 0x20 ? u != 0x7f : (multiline && (u == '\n' || u == '\t'));
    if (!ok) std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  mailmoat::mail::PreviewLimits limits;
  limits.max_text = 4096;
  auto p = mailmoat::mail::preview_message(bytes, limits);
  if (p.text.size() > limits.max_text || p.html_as_text.size() > limits.max_text) std::abort();
  check_clean(p.text, true);
  check_clean(p.html_as_text, true);
  for (const auto& [n, v] : p.headers) {
    check_clean(n, false);
    check_clean(v, false);
  }
  for (const auto& a : p.attachments)
    if (a.sha256.size() != 64) std::abort();
  return 0;
}
