// What Safe Attachments knows about one attachment (issue 9): the triage facts
// (name, declared and true type, size, SHA-256) and the analysis outcome
// (verdict, reasons, analyzers run). Plain values, so they cross the sandbox
// IPC, the filter, the rules engine and the trace without conversion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::attachments {

// Ordered by severity: a combined verdict is the maximum of its parts.
enum class Verdict { clean, suspicious, malicious, scan_error };

std::string_view to_string(Verdict v);
Verdict verdict_from_string(std::string_view s);  // unknown -> scan_error

// What the analyzers found. `scan_incomplete` means some content could not be
// examined (encrypted, truncated, limits): the verdict then says so in reasons.
struct Analysis {
  Verdict verdict = Verdict::clean;
  std::vector<std::string> reasons;
  std::string primary;                 // the reason behind the verdict (first at that severity)
  std::vector<std::string> analyzers;  // names of the analyzers that ran
  bool password_protected = false;
  bool scan_incomplete = false;
  // Text found in the file (plain text, OOXML/ODF documents, RTF, PDF text
  // operators), for the rules' `attachment_contains`; at most kMaxText bytes,
  // kept with the cached verdict so a repeated file is matched alike.
  std::string text;
  static constexpr std::size_t kMaxText = std::size_t{16} * 1024;

  void flag(Verdict v, std::string reason);
  void ran(std::string_view analyzer);
  void merge(const Analysis& other);
  // Appends up to kMaxText in all, a line break between pieces.
  void add_text(std::string_view piece);
};

struct AttachmentFacts {
  std::string name;           // RFC 2231/2047-decoded file name, "" when none
  std::string extension;      // lower case, without the dot ("" when none)
  std::string declared_type;  // Content-Type media type, lower case
  std::string true_type;      // libmagic's MIME type of the decoded content
  std::uint64_t size = 0;     // decoded bytes
  std::string sha256;         // lower-case hex of the decoded bytes
  bool executable = false;    // PE, ELF, Mach-O, MSI, or a script extension
  std::size_t part_index = 0; // leaf index in the MIME walk (for replacement)
  Analysis analysis;          // triage findings first; sandbox findings merged later
  bool decided = false;       // triage (lists, cache, bans) already settled the verdict
};

}  // namespace mailmoat::attachments
