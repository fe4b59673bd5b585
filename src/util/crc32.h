// CRC-32 (IEEE 802.3 polynomial, as zlib) for self-validating on-disk records:
// a spool file whose checksum does not match was not completely written.
#pragma once

#include <cstdint>
#include <string_view>

namespace mailmoat::util {

std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

}  // namespace mailmoat::util
