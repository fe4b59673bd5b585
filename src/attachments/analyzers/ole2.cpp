#include "attachments/analyzers/ole2.h"

#include <algorithm>
#include <cstring>

namespace mailmoat::attachments::ole2 {
namespace {

constexpr std::uint32_t kEnd = 0xFFFFFFFE;
constexpr std::uint32_t kFree = 0xFFFFFFFF;

std::uint32_t u32(std::string_view b, std::size_t at) {
  if (at + 4 > b.size()) return kFree;
  std::uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;  // x86_64 and aarch64 are little-endian, as the format is
}
std::uint16_t u16(std::string_view b, std::size_t at) {
  if (at + 2 > b.size()) return 0;
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8);
}

}  // namespace

bool has_signature(std::string_view b) {
  return b.size() >= 512 && b.substr(0, 8) == std::string_view("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
}

std::string CompoundFile::chain(std::uint32_t start, std::uint64_t size, bool mini, std::size_t max) const {
  const auto& table = mini ? minifat_ : fat_;
  const std::size_t sector = std::size_t{1} << (mini ? mini_shift_ : shift_);
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size, max));
  std::string out;
  std::uint32_t s = start;
  for (std::size_t steps = 0; s < table.size() && out.size() < want && steps <= table.size(); ++steps) {
    if (mini) {
      std::size_t at = std::size_t{s} * sector;
      if (at >= ministream_.size()) break;
      out.append(ministream_, at, std::min(sector, ministream_.size() - at));
    } else {
      std::size_t at = (std::size_t{s} + 1) * sector;
      if (at >= bytes_.size()) break;
      out.append(bytes_.substr(at, std::min(sector, bytes_.size() - at)));
    }
    s = table[s];
  }
  if (out.size() > want) out.resize(want);
  return out;
}

std::optional<CompoundFile> CompoundFile::open(std::string_view b, std::string* error) {
  auto fail = [&](const char* why) -> std::optional<CompoundFile> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!has_signature(b)) return fail("not an OLE2 compound file");
  CompoundFile f;
  f.bytes_ = b;
  f.shift_ = u16(b, 0x1E);
  f.mini_shift_ = u16(b, 0x20);
  if ((f.shift_ != 9 && f.shift_ != 12) || f.mini_shift_ != 6) return fail("bad sector size");
  f.mini_cutoff_ = u32(b, 0x38);
  const std::size_t sector = std::size_t{1} << f.shift_;
  const std::size_t sectors = b.size() / sector;
  // FAT sector numbers: 109 in the header, then the DIFAT chain.
  std::vector<std::uint32_t> fat_sectors;
  for (int i = 0; i < 109; ++i) {
    std::uint32_t s = u32(b, 0x4C + 4 * i);
    if (s < sectors) fat_sectors.push_back(s);
  }
  std::uint32_t difat = u32(b, 0x44);
  for (std::size_t guard = 0; difat < sectors && guard < sectors; ++guard) {
    std::size_t at = (std::size_t{difat} + 1) * sector;
    for (std::size_t i = 0; i + 1 < sector / 4; ++i) {
      std::uint32_t s = u32(b, at + 4 * i);
      if (s < sectors) fat_sectors.push_back(s);
    }
    difat = u32(b, at + sector - 4);
  }
  for (std::uint32_t s : fat_sectors) {
    if (f.fat_.size() > sectors + sector) break;
    std::size_t at = (std::size_t{s} + 1) * sector;
    for (std::size_t i = 0; i < sector / 4 && at + 4 * i + 4 <= b.size(); ++i) f.fat_.push_back(u32(b, at + 4 * i));
  }
  if (f.fat_.empty()) return fail("no FAT");
  std::string dir = f.chain(u32(b, 0x30), std::uint64_t{1} << 30, false, 16 << 20);
  for (std::size_t at = 0; at + 128 <= dir.size(); at += 128) {
    DirectoryEntry e;
    std::size_t len = std::min<std::size_t>(u16(dir, at + 0x40), 64);
    for (std::size_t i = 0; i + 1 < len; i += 2) {
      std::uint16_t ch = u16(dir, at + i);
      if (ch == 0) break;
      e.name.push_back(ch < 0x80 && ch >= 0x20 ? static_cast<char>(ch) : '?');
    }
    e.type = static_cast<unsigned char>(dir[at + 0x42]);
    e.start = u32(dir, at + 0x74);
    e.size = u32(dir, at + 0x78);
    if (f.shift_ == 12) e.size |= std::uint64_t{u32(dir, at + 0x7C)} << 32;
    if (e.type != 0) f.entries_.push_back(std::move(e));
  }
  if (f.entries_.empty() || f.entries_.front().type != 5) return fail("no root entry");
  std::string minifat = f.chain(u32(b, 0x3C), std::uint64_t{u32(b, 0x40)} * sector, false, 16 << 20);
  for (std::size_t i = 0; i + 4 <= minifat.size(); i += 4) f.minifat_.push_back(u32(minifat, i));
  f.ministream_ = f.chain(f.entries_.front().start, f.entries_.front().size, false, 64 << 20);
  return f;
}

std::string CompoundFile::read(const DirectoryEntry& e, std::size_t max) const {
  if (e.type != 2) return {};
  return chain(e.start, e.size, e.size < mini_cutoff_, max);
}

std::optional<std::string> decompress_vba(std::string_view in, std::size_t max) {
  if (in.empty() || in[0] != 0x01) return std::nullopt;
  std::string out;
  std::size_t pos = 1;
  while (pos + 2 <= in.size() && out.size() < max) {
    std::uint16_t header = u16(in, pos);
    if ((header & 0x7000) != 0x3000) return out.empty() ? std::nullopt : std::optional(out);
    std::size_t chunk_end = std::min(in.size(), pos + (header & 0x0FFF) + 3);
    bool compressed = header & 0x8000;
    pos += 2;
    std::size_t chunk_start = out.size();
    if (!compressed) {
      out.append(in.substr(pos, std::min<std::size_t>(4096, in.size() - pos)));
      pos += 4096;
      continue;
    }
    while (pos < chunk_end && out.size() < max) {
      unsigned char flags = static_cast<unsigned char>(in[pos++]);
      for (int bit = 0; bit < 8 && pos < chunk_end; ++bit) {
        if (!(flags & (1 << bit))) {
          out.push_back(in[pos++]);
          continue;
        }
        if (pos + 2 > chunk_end) return out;
        std::uint16_t token = u16(in, pos);
        pos += 2;
        std::size_t diff = out.size() - chunk_start;
        unsigned bits = 4;
        while ((std::size_t{1} << bits) < diff) ++bits;
        bits = std::min(bits, 12u);
        std::uint16_t length_mask = static_cast<std::uint16_t>(0xFFFF >> bits);
        std::size_t length = (token & length_mask) + 3;
        std::size_t offset = (token >> (16 - bits)) + 1;
        if (offset > diff) return out.empty() ? std::nullopt : std::optional(out);
        for (std::size_t k = 0; k < length && out.size() < max; ++k) out.push_back(out[out.size() - offset]);
      }
    }
    pos = chunk_end;
  }
  return out;
}

}  // namespace mailmoat::attachments::ole2
