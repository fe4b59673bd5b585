// Fuzzes the trace spill record decoder (the file is read back after crashes,
// so its tail may be anything): it must never read past its input, and a
// record it accepts must re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "store/recorder/spill_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using mailmoat::store::recorder::Decoded;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  while (!in.empty()) {
    Decoded d = mailmoat::store::recorder::decode_record(in);
    if (d.status != Decoded::Status::ok) break;
    std::string again;
    mailmoat::store::recorder::encode_record(again, d.seq, d.event);
    if (again != in.substr(0, d.consumed)) std::abort();
    in.remove_prefix(d.consumed);
  }
  return 0;
}
