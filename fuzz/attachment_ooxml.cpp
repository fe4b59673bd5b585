// libFuzzer target: OOXML detection over a zip read by libarchive, as the
// worker does (members, vbaProject.bin, rels, DDE, XLM).
#include <cstddef>
#include <cstdint>
#include <string>

#include "attachments/analyze.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mailmoat::attachments::AnalysisRequest request;
  request.name = "fuzz.docm";
  request.content.assign(reinterpret_cast<const char*>(data), size);
  request.passwords = {"infected"};
  request.limits.max_bytes = 16 << 20;
  (void)mailmoat::attachments::analyze(request);
  return 0;
}
