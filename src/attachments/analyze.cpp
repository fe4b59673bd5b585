#include "attachments/analyze.h"

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/archive.h"
#include "attachments/analyzers/ole2.h"
#include "attachments/analyzers/text_extract.h"
#include "attachments/analyzers/text_search.h"
#include "attachments/true_type.h"
#include "attachments/yara_rules.h"

namespace mailmoat::attachments {
namespace {

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool looks_like_html(std::string_view ext, std::string_view type, std::string_view content) {
  if (ext == "htm" || ext == "html" || ext == "xhtml" || ext == "shtml" || ext == "svg" || ext == "hta") return true;
  if (type == "text/html" || type == "image/svg+xml") return true;
  std::string head = to_lower_ascii(content.substr(0, 512));
  return head.find("<html") != std::string::npos || head.find("<script") != std::string::npos;
}

struct Analyzer {
  const AnalysisRequest& request;
  const YaraRules* yara;
  ArchiveWalk walk;

  void content(const std::string& name, std::string_view bytes, std::size_t depth, Analysis& out) {
    std::string type = true_type(bytes);
    std::string ext = extension_of(name);
    if (depth > 0 || request.check_name) {
      analyze_name(name, type, out);
      analyze_kind(ext, type, out);
    }
    if (yara) yara->scan(bytes, out);
    if (is_text_type(type)) out.add_text(bytes.substr(0, Analysis::kMaxText));
    if (ole2::has_signature(bytes)) analyze_ole2(bytes, out);
    else if (starts(bytes, "{\\rt")) {
      analyze_rtf(bytes, out);
      out.add_text(rtf_text(bytes, Analysis::kMaxText));
    }
    else if (bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos) analyze_pdf(bytes, out);
    else if (looks_like_html(ext, type, bytes)) analyze_html(bytes, out);
    if (is_archive_type(type) || starts(bytes, "PK\x03\x04")) archive(bytes, depth, out, is_compressed_stream(type));
  }

  // The text of an OOXML (Word, Excel, PowerPoint) or ODF document's content parts.
  static void document_text(const std::vector<PackageEntry>& members, Analysis& out) {
    for (const auto& m : members) {
      const std::string& n = m.name;
      bool part = n == "word/document.xml" || n == "xl/sharedStrings.xml" || n == "content.xml" ||
                  (starts(n, "ppt/slides/slide") && ends_with(n, ".xml")) ||
                  (starts(n, "word/") && (starts(n, "word/header") || starts(n, "word/footer")) && ends_with(n, ".xml"));
      if (part && !m.content.empty()) out.add_text(xml_text(m.content, Analysis::kMaxText));
    }
  }

  static bool is_compressed_stream(std::string_view type) {
    return type == "application/gzip" || type == "application/x-gzip" || type == "application/x-bzip2" ||
           type == "application/x-xz" || type == "application/x-lzma";
  }

  void archive(std::string_view bytes, std::size_t depth, Analysis& out, bool single_stream) {
    out.ran("archive");
    if (depth >= walk.limits.max_depth) {
      out.scan_incomplete = true;
      out.flag(Verdict::suspicious, "archive limits");
      out.flag(Verdict::clean, "archive limits: nested deeper than " + std::to_string(walk.limits.max_depth));
      return;
    }
    std::vector<PackageEntry> members;
    auto visit = [&](const std::string& name, const std::string& data, Analysis& o) {
      members.push_back(PackageEntry{name, data.size() <= (16u << 20) ? data : std::string()});
      if (!(starts(name, "word/") || starts(name, "xl/") || starts(name, "ppt/") || name == "[Content_Types].xml" ||
            starts(name, "docProps/") || starts(name, "_rels/") || starts(name, "customXml/")))
        content(name, data, depth + 1, o);
    };
    if (!read_archive(bytes, request.passwords, walk, visit, out, single_stream)) {
      if (depth == 0 && starts(bytes, "PK")) {
        out.scan_incomplete = true;
        out.flag(Verdict::suspicious, "archive: unreadable or truncated");
      }
      return;
    }
    if (is_ooxml(members)) analyze_ooxml(members, out);
    document_text(members, out);
  }
};

}  // namespace

Analysis analyze(const AnalysisRequest& request, const YaraRules* yara) {
  Analyzer a{request, yara, ArchiveWalk{request.limits, request.content.size(), 0, 0}};
  Analysis out;
  a.content(request.name, request.content, 0, out);
  return out;
}

}  // namespace mailmoat::attachments
