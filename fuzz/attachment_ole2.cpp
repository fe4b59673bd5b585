// libFuzzer target: the OLE2 compound-file reader and the VBA decompressor,
// through the OLE2 analyzer (directory, stream chains, XLM records).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/ole2.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mailmoat::attachments::Analysis out;
  mailmoat::attachments::analyze_ole2(bytes, out);
  (void)mailmoat::attachments::ole2::decompress_vba(bytes);
  return 0;
}
