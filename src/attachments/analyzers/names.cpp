// File-name and file-kind analyzers.
#include <algorithm>
#include <array>

#include "attachments/analyzers/analyzers.h"
#include "attachments/true_type.h"

namespace mailmoat::attachments {
namespace {

// Decodes one UTF-8 code point at `i` (advancing it); invalid bytes yield U+FFFD.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i++]);
  int extra = b >= 0xF0 ? 3 : b >= 0xE0 ? 2 : b >= 0xC0 ? 1 : 0;
  if (b >= 0x80 && extra == 0) return 0xFFFD;
  char32_t cp = extra == 3 ? b & 0x07 : extra == 2 ? b & 0x0F : extra == 1 ? b & 0x1F : b;
  for (int k = 0; k < extra; ++k) {
    if (i >= s.size() || (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (static_cast<unsigned char>(s[i++]) & 0x3F);
  }
  return cp;
}

bool is_bidi_control(char32_t c) {
  return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F || c == 0x061C;
}

constexpr std::array<std::string_view, 18> kDocumentExt{"pdf", "doc", "docx", "xls", "xlsx", "ppt",
                                                        "pptx", "txt", "rtf", "jpg", "jpeg", "png",
                                                        "gif", "zip", "csv", "htm", "html", "mp3"};
constexpr std::array<std::string_view, 9> kExecutableExt{"exe", "dll", "scr", "com", "msi", "sys", "cpl", "ocx", "pif"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

// Types an extension may truly have; empty when the extension is not checked.
std::vector<std::string_view> expected_types(std::string_view ext) {
  if (ext == "pdf") return {"application/pdf"};
  if (ext == "jpg" || ext == "jpeg") return {"image/jpeg"};
  if (ext == "png") return {"image/png"};
  if (ext == "gif") return {"image/gif"};
  if (ext == "zip") return {"application/zip"};
  if (ext == "docx" || ext == "docm")
    return {"application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-word.document.macroenabled.12", "application/octet-stream"};
  if (ext == "xlsx" || ext == "xlsm")
    return {"application/zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-excel.sheet.macroenabled.12", "application/octet-stream"};
  if (ext == "doc" || ext == "xls" || ext == "ppt")
    return {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
            "application/x-ole-storage", "application/cdfv2", "application/CDFV2", "text/rtf"};
  return {};
}

}  // namespace

void analyze_name(std::string_view name, std::string_view true_type, Analysis& out) {
  out.ran("names");
  for (std::size_t i = 0; i < name.size();) {
    char32_t c = next_code_point(name, i);
    if (c == 0x202E) out.flag(Verdict::malicious, "name: right-to-left override character");
    else if (is_bidi_control(c)) out.flag(Verdict::suspicious, "name: bidirectional control character");
  }
  std::string ext = extension_of(name);
  std::string_view stem = name.substr(0, name.empty() ? 0 : name.rfind('.') == std::string_view::npos ? name.size() : name.rfind('.'));
  std::string inner = extension_of(stem);
  if (!inner.empty() && in(kDocumentExt, inner) && (in(kExecutableExt, ext) || is_script_extension(ext)))
    out.flag(Verdict::malicious, "name: double extension ." + inner + "." + ext);
  if (is_executable_type(true_type) && !ext.empty() && !in(kExecutableExt, ext))
    out.flag(Verdict::malicious, "name: executable named ." + ext + " (true type " + std::string(true_type) + ")");
  auto expected = expected_types(ext);
  if (!expected.empty() && std::find(expected.begin(), expected.end(), true_type) == expected.end() &&
      !is_executable_type(true_type))
    out.flag(Verdict::suspicious, "name: extension ." + ext + " does not match true type " + std::string(true_type));
}

void analyze_kind(std::string_view extension, std::string_view true_type, Analysis& out) {
  out.ran("kind");
  if (is_executable_type(true_type)) out.flag(Verdict::suspicious, "executable: " + std::string(true_type));
  else if (is_script_extension(extension)) out.flag(Verdict::suspicious, "script or shortcut: ." + std::string(extension));
  if (is_disk_image(true_type, extension)) out.flag(Verdict::suspicious, "disk image: ." + std::string(extension));
}

}  // namespace mailmoat::attachments
