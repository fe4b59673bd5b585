// Milter packets written out byte by byte for the tests, independently of the
// encoders under test: 4-byte network-order length, command, data.
#pragma once

#include <cstdint>
#include <string>

namespace mailmoat::milter::test {

inline std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff), static_cast<char>((v >> 8) & 0xff),
          static_cast<char>(v & 0xff)};
}
inline std::string pkt(char cmd, const std::string& data = {}) { return u32(static_cast<std::uint32_t>(data.size() + 1)) + cmd + data; }
inline std::string z(const std::string& s) { return s + std::string(1, '\0'); }

// What Postfix 3.7 sends first: version 6, every action, every protocol bit it knows.
inline std::string postfix_optneg() { return pkt('O', u32(6) + u32(0x1ff) + u32(0x1fffff)); }

}  // namespace mailmoat::milter::test
