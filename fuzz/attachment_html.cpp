// libFuzzer target: the HTML smuggling / credential form / redirect detector,
// the file-name analyzer and the message-text password finder.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/analyzers/analyzers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mailmoat::attachments::Analysis out;
  mailmoat::attachments::analyze_html(bytes, out);
  mailmoat::attachments::analyze_name(bytes.substr(0, 256), "application/octet-stream", out);
  (void)mailmoat::attachments::passwords_in_text(bytes);
  return 0;
}
