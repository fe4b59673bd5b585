#include "auth/dkim/field_format.h"

namespace mailmoat::auth::dkim {
namespace {

constexpr std::size_t kWidth = 76;

std::size_t current_line_length(const std::string& s) {
  std::size_t nl = s.rfind('\n');
  return nl == std::string::npos ? s.size() : s.size() - nl - 1;
}

void append_piece(std::string& out, std::string_view piece, bool space_before, std::string_view fold = "\r\n\t") {
  if (current_line_length(out) + piece.size() + 1 > kWidth) out += fold;
  else if (space_before) out += ' ';
  out += piece;
}

}  // namespace

std::string format_unsigned_field(std::string_view name, const TagValues& tags) {
  std::string out = std::string(name) + ":";
  for (const auto& [tag, value] : tags) {
    if (tag == "h") {  // long header lists fold after a colon
      std::string piece = "h=";
      std::size_t start = 0;
      bool first = true;
      while (start <= value.size()) {
        std::size_t colon = value.find(':', start);
        std::string item = value.substr(start, colon == std::string::npos ? std::string::npos : colon + 1 - start);
        if (colon == std::string::npos) item += ";";
        if (first) {
          append_piece(out, piece + item, true);
          first = false;
        } else {
          append_piece(out, item, false);
        }
        if (colon == std::string::npos) break;
        start = colon + 1;
      }
      continue;
    }
    append_piece(out, tag + "=" + value + ";", true);
  }
  append_piece(out, "b=", true);
  return out;
}

std::string append_signature(std::string field, std::string_view b64) {
  while (!b64.empty()) {
    std::size_t room = current_line_length(field) < kWidth ? kWidth - current_line_length(field) : 0;
    if (room < 8) {
      field += "\r\n\t";
      continue;
    }
    field.append(b64.substr(0, room));
    b64.remove_prefix(std::min(room, b64.size()));
  }
  return field;
}

std::string format_field_in_order(std::string_view name, const TagValues& tags, std::string_view b64) {
  std::string out = std::string(name) + ":";
  for (std::size_t i = 0; i < tags.size(); ++i) {
    const auto& [tag, value] = tags[i];
    std::string_view end = i + 1 < tags.size() ? ";" : "";
    if (tag == "b") {
      // b= goes on one line of its own, never folded inside: an ARC-Seal
      // covers the AMS including its b= value, where relaxed canonicalization
      // turns a fold into a space, and the ValiMail suite's seals were made
      // over unfolded AMS b= values (docs/dkim.md).
      out += "\r\n\tb=";
      out.append(b64);
      out += end;
      continue;
    }
    // Folded with a space, not a tab: dkimpy finds an ARC set's fields by the
    // raw text " i=N;", which a tab-folded i= would hide. Relaxed
    // canonicalization (the only one ARC uses) makes the two identical.
    append_piece(out, tag + "=" + value + std::string(end), true, "\r\n ");
  }
  return out;
}

}  // namespace mailmoat::auth::dkim
