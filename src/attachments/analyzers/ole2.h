// A reader of OLE2 compound files ([MS-CFB]): the directory (names, types,
// sizes) and bounded stream reads through the FAT and mini FAT, plus the
// [MS-OVBA] 2.4.1 decompression of VBA source. Hostile files are the norm:
// every chain is bounded by the file's sector count, every offset checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::attachments::ole2 {

struct DirectoryEntry {
  std::string name;  // UTF-16LE name converted to ASCII ('?' for others)
  int type = 0;      // 1 storage, 2 stream, 5 root
  std::uint32_t start = 0;
  std::uint64_t size = 0;
};

class CompoundFile {
 public:
  // nullopt when `bytes` is not a readable compound file; `error` says why.
  static std::optional<CompoundFile> open(std::string_view bytes, std::string* error = nullptr);
  const std::vector<DirectoryEntry>& entries() const { return entries_; }
  // The stream's bytes, at most `max` of them.
  std::string read(const DirectoryEntry& entry, std::size_t max = 16 << 20) const;

 private:
  std::string chain(std::uint32_t start, std::uint64_t size, bool mini, std::size_t max) const;
  std::string_view bytes_;
  unsigned shift_ = 9;
  unsigned mini_shift_ = 6;
  std::uint32_t mini_cutoff_ = 4096;
  std::vector<std::uint32_t> fat_;
  std::vector<std::uint32_t> minifat_;
  std::string ministream_;
  std::vector<DirectoryEntry> entries_;
};

bool has_signature(std::string_view bytes);

// [MS-OVBA] CompressedContainer starting at bytes[0] (the 0x01 signature);
// nullopt when it is not one. Output capped at `max`.
std::optional<std::string> decompress_vba(std::string_view bytes, std::size_t max = 1 << 20);

}  // namespace mailmoat::attachments::ole2
