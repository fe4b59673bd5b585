// Static analyzers of Safe Attachments (issue 9). Each is a pure function over
// bytes that adds its findings (verdict + reason) to an Analysis; none trusts
// the declared type or name. They run in sandbox workers (analyze.h is the
// entry point), and are fuzzed one by one (fuzz/attachments.cmake).
// Verdict policy: patterns that only malware needs (auto-exec macros, remote
// templates, DDE, /Launch, HTML smuggling, RTL override) are `malicious`;
// capabilities with legitimate uses (macros, JavaScript, executables) are
// `suspicious`, so that the policy decides what suspicious means.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attachments/facts.h"

namespace mailmoat::attachments {

// File name: double extensions, bidirectional controls (U+202E ...),
// extension that does not match the true type.
void analyze_name(std::string_view name, std::string_view true_type, Analysis& out);

// Executables and installers, scripts, disk images.
void analyze_kind(std::string_view extension, std::string_view true_type, Analysis& out);

// OLE2 compound files (.doc, .xls, .ppt, .msg, vbaProject.bin): VBA projects,
// auto-exec macro names, Excel 4.0 macro sheets, Equation Editor objects.
void analyze_ole2(std::string_view content, Analysis& out);

// RTF: embedded OLE objects (\object \objdata), Equation Editor class.
void analyze_rtf(std::string_view content, Analysis& out);

// PDF: /JavaScript /JS /OpenAction /AA /Launch /EmbeddedFile /URI /Encrypt,
// names with #xx escapes decoded, Flate streams (object streams) inflated.
void analyze_pdf(std::string_view content, Analysis& out);

// HTML: smuggling (script-built Blob/data-URI download), credential forms
// posting to a web host, meta refresh and script redirects.
void analyze_html(std::string_view content, Analysis& out);

// One member of an OOXML package (name inside the zip, its bytes).
struct PackageEntry {
  std::string name;
  std::string content;
};
bool is_ooxml(const std::vector<PackageEntry>& entries);
// vbaProject.bin, XLM macro sheets, remote templates, DDE fields, embedded OLE.
void analyze_ooxml(const std::vector<PackageEntry>& entries, Analysis& out);

// Candidate archive passwords found in a message's text ("password: x").
std::vector<std::string> passwords_in_text(std::string_view text, std::size_t max = 20);

}  // namespace mailmoat::attachments
