// A spool segment as recovery reads it after a crash or a damaged disk: records
// (magic, lengths, metadata, message, CRC-32) up to the first torn one, and the
// done marks beside it. Whatever the bytes, recovery must not crash, and every
// message it reports must read back and be removable.
// Input: byte 0 = n; the next n bytes are the .done file, the rest the segment.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "queue/spool.h"

namespace {

const std::string& work_dir() {
  static const std::string dir = [] {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mailmoat-fuzz-spool-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  return dir;
}

void write(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t n = std::min<std::size_t>(static_cast<unsigned char>(in[0]), in.size() - 1);
  const std::string spool = work_dir() + "/spool";
  std::filesystem::remove_all(spool);
  std::filesystem::create_directories(spool + "/segments");
  write(spool + "/segments/0000000000000001-1", in.substr(1 + n));
  if (n > 0) write(spool + "/segments/0000000000000001-1.done", in.substr(1, n));
  mailmoat::queue::Spool s(spool);
  if (!s.open()) std::abort();
  auto report = s.recover();
  for (const auto& m : report.messages) {
    if (!s.read_message(m.id)) std::abort();  // a recovered message always reads back
    s.remove(m.id);
  }
  return 0;
}
