#include "mail/message.h"

#include "util/strings.h"

namespace mailmoat::mail {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// RFC 5322 section 3.6.8: ftext is printable US-ASCII except ':'.
bool is_ftext(char c) { return c >= 33 && c <= 126 && c != ':'; }

// End of the line starting at `pos` (index of its CR LF, or of the buffer end).
std::size_t line_end(std::string_view s, std::size_t pos) {
  std::size_t e = s.find("\r\n", pos);
  return e == std::string_view::npos ? s.size() : e;
}

util::Result<HeaderField> make_field(std::string_view bytes, std::size_t start, std::size_t end) {
  std::string_view raw = bytes.substr(start, end - start);
  std::size_t colon = raw.find(':');
  if (colon == std::string_view::npos) return util::fail("header line without a colon at offset " + std::to_string(start));
  std::string_view name = raw.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  if (name.empty()) return util::fail("header field with an empty name at offset " + std::to_string(start));
  for (char c : name)
    if (!is_ftext(c)) return util::fail("invalid character in header field name at offset " + std::to_string(start));
  return HeaderField{name, raw.substr(colon + 1), raw, start};
}

}  // namespace

util::Result<Message> Message::parse(std::string_view bytes, const Limits& limits) {
  Message m;
  m.bytes_ = bytes;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    if (bytes.substr(pos, 2) == "\r\n") {  // the empty line ends the header section
      m.has_separator_ = true;
      m.header_ = bytes.substr(0, pos + 2);
      m.body_ = bytes.substr(pos + 2);
      return m;
    }
    if (is_wsp(bytes[pos])) return util::fail("continuation line without a field at offset " + std::to_string(pos));
    std::size_t start = pos, end = line_end(bytes, pos);
    // Unfold: continuation lines start with WSP.
    while (end + 2 < bytes.size() && is_wsp(bytes[end + 2])) end = line_end(bytes, end + 2);
    if (end > limits.max_header_bytes) return util::fail("header section larger than the limit");
    if (m.fields_.size() >= limits.max_fields) return util::fail("more header fields than the limit");
    auto field = make_field(bytes, start, end);
    if (!field) return std::unexpected(field.error());
    m.fields_.push_back(*field);
    pos = end + 2;
  }
  // No empty line: the message is all header, with no body.
  m.header_ = bytes;
  m.body_ = bytes.substr(bytes.size());
  return m;
}

std::vector<const HeaderField*> Message::find_all(std::string_view name) const {
  std::vector<const HeaderField*> out;
  for (const auto& f : fields_)
    if (util::iequals(f.name, name)) out.push_back(&f);
  return out;
}

const HeaderField* Message::find_first(std::string_view name) const {
  for (const auto& f : fields_)
    if (util::iequals(f.name, name)) return &f;
  return nullptr;
}

std::size_t Message::count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& f : fields_)
    if (util::iequals(f.name, name)) ++n;
  return n;
}

bool needs_normalization(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) return true;
  return false;
}

std::string normalize_line_endings(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r')) out.push_back('\r');
    out.push_back(bytes[i]);
  }
  return out;
}

}  // namespace mailmoat::mail
