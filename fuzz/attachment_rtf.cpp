// libFuzzer target: the RTF embedded-object scanner.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/analyzers/analyzers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mailmoat::attachments::Analysis out;
  mailmoat::attachments::analyze_rtf(std::string_view(reinterpret_cast<const char*>(data), size), out);
  return 0;
}
