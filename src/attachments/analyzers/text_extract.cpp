// Text extraction for the rules' `attachment_contains` (issue 7): what a
// reader of the file would see, good enough for word matching — not a
// renderer. Runs in the sandbox worker with the other analyzers; every
// function is bounded by its output cap and reads its input once.
#include "attachments/analyzers/text_extract.h"
#include "util/utf8.h"

#include <cctype>

namespace mailmoat::attachments {
namespace {

bool full(const std::string& out, std::size_t max) { return out.size() >= max; }

// Appends the UTF-8 form of a code point (invalid ones dropped).
void put_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return;
  util::append_utf8(out, static_cast<char32_t>(cp));
}

// One XML entity starting at s[i] == '&'; returns the index after it.
std::size_t entity(std::string_view s, std::size_t i, std::string& out) {
  std::size_t semi = s.find(';', i);
  if (semi == std::string_view::npos || semi - i > 10) {
    out += '&';
    return i + 1;
  }
  std::string_view name = s.substr(i + 1, semi - i - 1);
  if (name == "amp") out += '&';
  else if (name == "lt") out += '<';
  else if (name == "gt") out += '>';
  else if (name == "quot") out += '"';
  else if (name == "apos") out += '\'';
  else if (name.size() > 1 && name[0] == '#') {
    bool hex = name[1] == 'x' || name[1] == 'X';
    unsigned long cp = 0;
    for (char c : name.substr(hex ? 2 : 1)) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : hex && std::isxdigit(static_cast<unsigned char>(c)) ? (std::tolower(c) - 'a' + 10)
                                                                   : -1;
      if (d < 0 || cp > 0x10FFFF) return semi + 1;
      cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
    }
    put_utf8(out, cp);
  }
  return semi + 1;
}

// Tags that end a paragraph, a cell or a line in WordprocessingML,
// SpreadsheetML, DrawingML and ODF: a line break keeps words apart.
bool breaks_text(std::string_view tag) {
  for (std::string_view t : {"w:p", "/w:p", "w:br", "w:tab", "/a:p", "a:br", "/si", "/t", "/text:p", "/text:h",
                             "text:line-break", "text:tab", "/c", "/row"})
    if (tag == t) return true;
  return false;
}

}  // namespace

std::string xml_text(std::string_view xml, std::size_t max) {
  std::string out;
  std::size_t i = 0;
  while (i < xml.size() && !full(out, max)) {
    char c = xml[i];
    if (c == '<') {
      std::size_t end = xml.find('>', i);
      if (end == std::string_view::npos) break;
      std::string_view tag = xml.substr(i + 1, end - i - 1);
      std::size_t space = tag.find_first_of(" \t\r\n/");
      std::string_view name = tag.substr(0, space == 0 ? tag.find_first_of(" \t\r\n>", 1) : space);
      if (breaks_text(name) && !out.empty() && out.back() != '\n') out += '\n';
      i = end + 1;
    } else if (c == '&') {
      i = entity(xml, i, out);
    } else {
      out += c;
      ++i;
    }
  }
  if (out.size() > max) out.resize(max);
  return out;
}

std::string rtf_text(std::string_view rtf, std::size_t max) {
  std::string out;
  // Depth at which a skipped destination ({\*\...}, font and colour tables,
  // pictures, objects, document info) began; 0: not skipping.
  int depth = 0, skip_from = 0;
  std::size_t i = 0;
  while (i < rtf.size() && !full(out, max)) {
    char c = rtf[i];
    if (c == '{') {
      ++depth;
      ++i;
      continue;
    }
    if (c == '}') {
      if (skip_from && depth <= skip_from) skip_from = 0;
      --depth;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= rtf.size()) break;
      char n = rtf[i + 1];
      if (n == '*') {
        if (!skip_from) skip_from = depth;
        i += 2;
        continue;
      }
      if (n == '\'' && i + 3 < rtf.size()) {  // \'hh: a byte in the document's code page (Latin-1 taken)
        unsigned v = 0;
        for (std::size_t k = i + 2; k < i + 4; ++k) {
          char h = static_cast<char>(std::tolower(static_cast<unsigned char>(rtf[k])));
          v = v * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : h - 'a' + 10);
        }
        if (!skip_from) put_utf8(out, v & 0xFF);
        i += 4;
        continue;
      }
      if (!std::isalpha(static_cast<unsigned char>(n))) {  // \\, \{, \}, \~ ...
        if (!skip_from && (n == '\\' || n == '{' || n == '}')) out += n;
        i += 2;
        continue;
      }
      std::size_t j = i + 1;
      while (j < rtf.size() && std::isalpha(static_cast<unsigned char>(rtf[j]))) ++j;
      std::string_view word = rtf.substr(i + 1, j - i - 1);
      if (j < rtf.size() && (rtf[j] == '-' || std::isdigit(static_cast<unsigned char>(rtf[j])))) {
        ++j;
        while (j < rtf.size() && std::isdigit(static_cast<unsigned char>(rtf[j]))) ++j;
      }
      if (j < rtf.size() && rtf[j] == ' ') ++j;
      for (std::string_view d : {"fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata",
                                 "themedata", "datastore", "listtable", "generator"})
        if (word == d && !skip_from) skip_from = depth;
      if (!skip_from && (word == "par" || word == "line" || word == "cell" || word == "row" || word == "tab"))
        out += '\n';
      i = j;
      continue;
    }
    if (!skip_from && c != '\r' && c != '\n') out += c;
    ++i;
  }
  if (out.size() > max) out.resize(max);
  return out;
}

std::string pdf_content_text(std::string_view stream, std::size_t max) {
  std::string out;
  bool in_text = false;
  std::size_t i = 0;
  while (i < stream.size() && !full(out, max)) {
    char c = stream[i];
    if (!in_text) {
      std::size_t bt = stream.find("BT", i);
      if (bt == std::string_view::npos) break;
      in_text = true;
      i = bt + 2;
      continue;
    }
    if (c == 'E' && i + 1 < stream.size() && stream[i + 1] == 'T') {
      in_text = false;
      if (!out.empty() && out.back() != '\n') out += '\n';
      i += 2;
      continue;
    }
    if (c != '(') {
      ++i;
      continue;
    }
    // A literal string (PDF 32000-1 §7.3.4.2): balanced parentheses, escapes.
    int nest = 1;
    ++i;
    while (i < stream.size() && nest > 0) {
      char d = stream[i++];
      if (d == '\\' && i < stream.size()) {
        char e = stream[i++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += ' '; break;
          case 'r':   // carriage return, backspace and form feed say nothing to a text scan;
          case 'b':   // a backslash before an end of line continues the string on the next
          case 'f':
          case '\r':
          case '\n': break;
          default:
            if (e >= '0' && e <= '7') {
              unsigned v = static_cast<unsigned>(e - '0');
              for (int k = 0; k < 2 && i < stream.size() && stream[i] >= '0' && stream[i] <= '7'; ++k)
                v = v * 8 + static_cast<unsigned>(stream[i++] - '0');
              put_utf8(out, v & 0xFF);
            } else {
              out += e;
            }
        }
        continue;
      }
      if (d == '(') ++nest;
      if (d == ')' && --nest == 0) break;
      out += d;
    }
    out += ' ';  // a TJ array's pieces or separate Tj operators: keep words apart
  }
  if (out.size() > max) out.resize(max);
  return out;
}

bool is_text_type(std::string_view true_type) {
  return true_type.starts_with("text/") || true_type == "application/json" || true_type == "application/xml" ||
         true_type == "application/csv";
}

}  // namespace mailmoat::attachments
