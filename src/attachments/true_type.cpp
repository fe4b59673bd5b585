#include "attachments/true_type.h"

#include <magic.h>

#include <algorithm>
#include <array>

namespace mailmoat::attachments {
namespace {

struct Cookie {
  magic_t m;
  Cookie() : m(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) {
    if (m && magic_load(m, nullptr) != 0) {
      magic_close(m);
      m = nullptr;
    }
  }
  ~Cookie() {
    if (m) magic_close(m);
  }
};

// libmagic looks at the head of a file; 64 KiB covers the magics that matter
// here (OOXML's first members, ISO 9660 at 32 KiB) and keeps its text-encoding
// pass from reading megabytes per attachment (bench/attachments).
constexpr std::size_t kMagicWindow = 64 << 10;

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

}  // namespace

std::string true_type(std::string_view content) {
  // NOLINTNEXTLINE(misc-use-internal-linkage): a function's local; clang-tidy 19 mistakes it for a global
  thread_local Cookie cookie;
  if (!cookie.m) return "application/octet-stream";
  if (content.empty()) return "application/x-empty";
  const char* t = magic_buffer(cookie.m, content.data(), std::min(content.size(), kMagicWindow));
  return t ? std::string(t) : std::string("application/octet-stream");
}

std::string extension_of(std::string_view name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= name.size()) return {};
  std::string ext(name.substr(dot + 1));
  while (!ext.empty() && (ext.back() == ' ' || ext.back() == '.')) ext.pop_back();  // "a.exe ." tricks
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

bool is_executable_type(std::string_view t) {
  static constexpr std::array<std::string_view, 11> kTypes{
      "application/x-dosexec", "application/vnd.microsoft.portable-executable", "application/x-executable",
      "application/x-sharedlib", "application/x-pie-executable", "application/x-mach-binary",
      "application/x-msi", "application/x-ole-storage-msi", "application/x-ms-installer",
      "application/x-msdownload", "application/x-elf"};
  return contains(kTypes, t);
}

bool is_script_extension(std::string_view e) {
  static constexpr std::array<std::string_view, 19> kExt{"js",  "jse", "vbs", "vbe", "wsf", "wsh", "hta",
                                                         "ps1", "bat", "cmd", "lnk", "scr", "url", "exe",
                                                         "com", "pif", "msi", "cpl", "jar"};
  return contains(kExt, e);
}

bool is_disk_image(std::string_view t, std::string_view e) {
  return t == "application/x-iso9660-image" || e == "iso" || e == "img" || e == "vhd" || e == "vhdx";
}

bool is_archive_type(std::string_view t) {
  static constexpr std::array<std::string_view, 14> kTypes{
      "application/zip",          "application/x-7z-compressed", "application/x-rar",
      "application/vnd.rar",      "application/x-tar",           "application/gzip",
      "application/x-gzip",       "application/x-bzip2",         "application/x-xz",
      "application/vnd.ms-cab-compressed", "application/x-iso9660-image", "application/x-rar-compressed",
      "application/java-archive", "application/x-lzma"};
  return contains(kTypes, t);
}

}  // namespace mailmoat::attachments
