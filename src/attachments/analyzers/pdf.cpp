// PDF scanner: counts the action and content names that matter (ISO 32000-1
// 12.6 actions, 7.6 encryption, 7.11.4 embedded files) in the file and in its
// Flate-compressed streams (object streams hide /OpenAction otherwise).
// Names are normalised first: "/J#61vaScript" is "/JavaScript" (7.3.5).
#include <zlib.h>

#include <map>

#include "attachments/analyzers/analyzers.h"
#include "attachments/analyzers/text_extract.h"

namespace mailmoat::attachments {
namespace {

bool name_char(char c) {
  return c > 0x20 && c < 0x7F && c != '/' && c != '(' && c != ')' && c != '<' && c != '>' && c != '[' && c != ']' &&
         c != '{' && c != '}' && c != '%';
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void count_names(std::string_view s, std::map<std::string, int>& counts) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '/') continue;
    std::string name;
    std::size_t j = i + 1;
    while (j < s.size() && name_char(s[j]) && name.size() < 64) {
      if (s[j] == '#' && j + 2 < s.size() && hex(s[j + 1]) >= 0 && hex(s[j + 2]) >= 0) {
        name.push_back(static_cast<char>(hex(s[j + 1]) * 16 + hex(s[j + 2])));
        j += 3;
      } else {
        name.push_back(s[j++]);
      }
    }
    static const char* kWanted[] = {"JavaScript", "JS", "OpenAction", "AA", "Launch", "EmbeddedFile", "URI", "Encrypt", "XFA", "RichMedia"};
    // "/S /URI /URI (target)": count the key (followed by its string), not the type.
    std::size_t k = j;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\r' || s[k] == '\n')) ++k;
    bool is_uri_key = k < s.size() && (s[k] == '(' || s[k] == '<');
    for (const char* w : kWanted)
      if (name == w && (name != "URI" || is_uri_key)) ++counts[name];
    i = j - 1;
  }
}

// Inflates one stream body; bounded output, nullopt-like empty on error.
std::string inflate_stream(std::string_view in, std::size_t max) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return {};
  std::string out(std::min<std::size_t>(max, 64 << 10), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
  std::size_t produced = 0;
  while (true) {
    if (produced == out.size()) {
      if (out.size() >= max) break;
      out.resize(std::min(max, out.size() * 2));
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(out.size() - produced);
    int rc = inflate(&z, Z_NO_FLUSH);
    produced = out.size() - z.avail_out;
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  out.resize(produced);
  return out;
}

}  // namespace

void analyze_pdf(std::string_view content, Analysis& out) {
  out.ran("pdf");
  std::map<std::string, int> counts;
  count_names(content, counts);
  std::size_t inflated_budget = 64 << 20;
  int streams = 0;
  for (std::size_t at = content.find("stream"); at != std::string_view::npos && streams < 10000;
       at = content.find("stream", at + 6)) {
    if (at >= 3 && content.substr(at - 3, 3) == "end") continue;
    std::size_t start = at + 6;
    if (start < content.size() && content[start] == '\r') ++start;
    if (start < content.size() && content[start] == '\n') ++start;
    std::size_t end = content.find("endstream", start);
    if (end == std::string_view::npos || inflated_budget == 0) break;
    ++streams;
    std::string body = inflate_stream(content.substr(start, end - start), inflated_budget);
    inflated_budget -= std::min(inflated_budget, body.size());
    count_names(body, counts);
    // Page content with text operators (unfiltered streams hold them as they are).
    std::string_view page = body.empty() ? content.substr(start, end - start) : std::string_view(body);
    if (page.find("Tj") != std::string_view::npos || page.find("TJ") != std::string_view::npos)
      out.add_text(pdf_content_text(page, Analysis::kMaxText));
    at = end;
  }
  bool js = counts["JavaScript"] + counts["JS"] > 0;
  bool auto_run = counts["OpenAction"] + counts["AA"] > 0;
  if (counts["Launch"]) out.flag(Verdict::malicious, "pdf: /Launch action");
  if (js && auto_run) out.flag(Verdict::malicious, "pdf: JavaScript run on open (/OpenAction or /AA)");
  else if (js) out.flag(Verdict::suspicious, "pdf: JavaScript");
  if (counts["EmbeddedFile"]) out.flag(Verdict::suspicious, "pdf: embedded file");
  if (counts["XFA"] + counts["RichMedia"]) out.flag(Verdict::suspicious, "pdf: XFA or RichMedia content");
  if (counts["Encrypt"]) {
    out.password_protected = true;
    out.scan_incomplete = true;
    out.flag(Verdict::suspicious, "pdf: encrypted");
  }
  if (counts["URI"]) out.flag(Verdict::clean, "pdf: " + std::to_string(counts["URI"]) + " /URI links");
}

}  // namespace mailmoat::attachments
