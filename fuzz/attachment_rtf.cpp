// libFuzzer target: the RTF embedded-object scanner and the text extractors
// (RTF text, XML text of document parts) that feed `attachment_contains`.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/text_extract.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mailmoat::attachments::Analysis out;
  mailmoat::attachments::analyze_rtf(in, out);
  if (mailmoat::attachments::rtf_text(in, 4096).size() > 4096) __builtin_trap();
  if (mailmoat::attachments::xml_text(in, 4096).size() > 4096) __builtin_trap();
  return 0;
}
