#include "smtp/protocol/reply.h"

namespace mailmoat::smtp {

std::string Reply::wire() const {
  std::string out;
  const std::string code_text = std::to_string(code);
  if (lines.empty()) return code_text + (enhanced.empty() ? "" : " " + enhanced) + "\r\n";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += code_text;
    out += (i + 1 < lines.size()) ? '-' : ' ';
    // RFC 2034: the enhanced code starts the text of every line.
    if (!enhanced.empty()) {
      out += enhanced;
      if (!lines[i].empty()) out += ' ';
    }
    out += lines[i];
    out += "\r\n";
  }
  return out;
}

std::string Reply::summary() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) out += " " + enhanced;
  for (const auto& l : lines) out += " " + l;
  return out;
}

}  // namespace mailmoat::smtp
