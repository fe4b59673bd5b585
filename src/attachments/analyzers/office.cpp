// Office analyzers: OLE2 (VBA, XLM, Equation Editor), OOXML packages, RTF.
#include <algorithm>
#include <array>
#include <cstring>

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/ole2.h"
#include "attachments/analyzers/text_search.h"

namespace mailmoat::attachments {
namespace {

// Procedures Office runs without the user asking ([MS-VBAL] event handlers
// and the Word/Excel auto macros).
constexpr std::array<std::string_view, 14> kAutoExec{
    "autoopen",      "autoexec",       "autoclose",        "auto_open",      "auto_close",
    "document_open", "documentopen",   "document_close",   "workbook_open",  "workbook_activate",
    "workbook_beforeclose", "document_new", "autonew",     "presentation_open"};

void find_auto_exec(std::string_view text, Analysis& out) {
  std::string low = to_lower_ascii(text.substr(0, 8 << 20));
  for (auto name : kAutoExec)
    if (low.find(name) != std::string::npos) out.flag(Verdict::malicious, "office: auto-exec macro " + std::string(name));
}

// VBA source is compressed; try each plausible CompressedContainer start.
void scan_vba_stream(std::string_view stream, Analysis& out) {
  find_auto_exec(stream, out);
  int candidates = 0;
  for (std::size_t i = 0; i + 3 <= stream.size() && candidates < 64; ++i) {
    if (stream[i] != 0x01) continue;
    auto header = static_cast<std::uint16_t>(static_cast<unsigned char>(stream[i + 1]) |
                                             static_cast<unsigned char>(stream[i + 2]) << 8);
    if ((header & 0x7000) != 0x3000) continue;
    ++candidates;
    if (auto source = ole2::decompress_vba(stream.substr(i), 512 << 10)) find_auto_exec(*source, out);
  }
}

// BIFF8 BOUNDSHEET records (0x0085) whose sheet type is 1: Excel 4.0 macro sheets.
bool has_xlm_sheet(std::string_view workbook) {
  std::size_t pos = 0;
  for (int records = 0; pos + 4 <= workbook.size() && records < 200000; ++records) {
    auto type = static_cast<std::uint16_t>(static_cast<unsigned char>(workbook[pos]) |
                                           static_cast<unsigned char>(workbook[pos + 1]) << 8);
    auto len = static_cast<std::uint16_t>(static_cast<unsigned char>(workbook[pos + 2]) |
                                          static_cast<unsigned char>(workbook[pos + 3]) << 8);
    if (type == 0x0085 && len >= 6 && pos + 4 + 6 <= workbook.size() && workbook[pos + 4 + 5] == 0x01) return true;
    pos += 4 + len;
  }
  return false;
}

}  // namespace

void analyze_ole2(std::string_view content, Analysis& out) {
  out.ran("office");
  std::string error;
  auto file = ole2::CompoundFile::open(content, &error);
  if (!file) {
    out.scan_incomplete = true;
    out.flag(Verdict::suspicious, "office: corrupt OLE2 file (" + error + ")");
    return;
  }
  bool vba = false;
  for (const auto& e : file->entries()) {
    std::string low = to_lower_ascii(e.name);
    if (low == "vba" || low == "_vba_project" || low == "macros") vba = true;
    if (low == "equation native") out.flag(Verdict::malicious, "office: Equation Editor object");
    if (low == "workbook" && has_xlm_sheet(file->read(e))) out.flag(Verdict::malicious, "office: Excel 4.0 (XLM) macro sheet");
  }
  if (!vba) return;
  out.flag(Verdict::suspicious, "office: VBA macros");
  std::size_t budget = 32 << 20;
  for (const auto& e : file->entries()) {
    if (e.type != 2 || budget == 0) continue;
    std::string stream = file->read(e, budget);
    budget -= std::min(budget, stream.size());
    scan_vba_stream(stream, out);
  }
}

bool is_ooxml(const std::vector<PackageEntry>& entries) {
  return std::any_of(entries.begin(), entries.end(), [](const PackageEntry& e) { return e.name == "[Content_Types].xml"; });
}

void analyze_ooxml(const std::vector<PackageEntry>& entries, Analysis& out) {
  out.ran("office");
  for (const auto& e : entries) {
    std::string name = to_lower_ascii(e.name);
    if (ends_with(name, "vbaproject.bin")) {
      out.flag(Verdict::suspicious, "office: OOXML with vbaProject.bin");
      analyze_ole2(e.content, out);
    } else if (name.find("macrosheets/") != std::string::npos) {
      out.flag(Verdict::malicious, "office: Excel 4.0 (XLM) macro sheet");
    } else if (name.find("embeddings/") != std::string::npos && ole2::has_signature(e.content)) {
      analyze_ole2(e.content, out);
    } else if (ends_with(name, ".rels")) {
      std::string low = to_lower_ascii(e.content);
      if (low.find("attachedtemplate") != std::string::npos && low.find("targetmode=\"external\"") != std::string::npos)
        out.flag(Verdict::malicious, "office: remote template injection");
    } else if (ends_with(name, ".xml")) {
      std::string low = to_lower_ascii(e.content);
      if (low.find("ddeauto") != std::string::npos ||
          (low.find("instrtext") != std::string::npos && low.find(" dde ") != std::string::npos) ||
          low.find("instr=\" dde") != std::string::npos || low.find("instr=\"dde") != std::string::npos)
        out.flag(Verdict::malicious, "office: DDE field");
      if (name == "xl/workbook.xml" && low.find("_xlnm.auto_open") != std::string::npos)
        out.flag(Verdict::malicious, "office: Excel 4.0 Auto_Open name");
    }
  }
}

void analyze_rtf(std::string_view content, Analysis& out) {
  out.ran("rtf");
  std::string low = to_lower_ascii(content.substr(0, 64 << 20));
  bool object = low.find("\\object") != std::string::npos || low.find("\\objdata") != std::string::npos;
  if (!object) return;
  out.flag(Verdict::suspicious, "rtf: embedded OLE object");
  if (low.find("\\objupdate") != std::string::npos) out.flag(Verdict::suspicious, "rtf: object updates on open");
  // "Equation.3" as written in \objclass or hex-encoded inside \objdata.
  if (low.find("equation.3") != std::string::npos || low.find("4571756174696f6e2e33") != std::string::npos)
    out.flag(Verdict::malicious, "rtf: Equation Editor object");
}

}  // namespace mailmoat::attachments
