// Record format of the trace spill file: [u32 length][u32 CRC-32 of payload]
// [payload], little-endian; the payload is a sequence number and one
// TraceEvent. A torn or corrupt tail (crash mid-write) decodes as incomplete
// or corrupt, never as an event, and the decoder never reads past its input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "store/types.h"

namespace mailmoat::store::recorder {

inline constexpr std::uint32_t kMaxRecordSize = 64u << 20;

std::uint32_t crc32(std::string_view data);
void encode_record(std::string& out, std::uint64_t seq, const TraceEvent& event);

struct Decoded {
  enum class Status { ok, incomplete, corrupt } status = Status::incomplete;
  std::size_t consumed = 0;  // bytes of this record when ok
  std::uint64_t seq = 0;
  TraceEvent event;
  std::string reason;  // why, when corrupt
};
// Decodes the record at the start of `input`.
Decoded decode_record(std::string_view input);

}  // namespace mailmoat::store::recorder
