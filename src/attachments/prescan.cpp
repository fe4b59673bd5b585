// The cheap test before the MIME walk: most mail is text, or text and HTML in a
// multipart, and carries nothing to analyse. Deliberately blunt: every line of
// the message, headers and bodies alike and split at CR as well as LF, is read as
// if it could be an entity's header, so no part can declare itself in a way the
// walk would see and this test would not. Anything unusual answers "not sure".
#include "attachments/mime_parts.h"

#include <array>
#include <optional>

#include "util/strings.h"

namespace mailmoat::attachments {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// The media types a part may declare and still be plainly text to every reader:
// text/* (a text leaf is an attachment only by a name or a disposition) and the
// multiparts whose parts default to text/plain (not multipart/digest: message/rfc822).
bool plain_media_type(std::string_view value) {
  static constexpr std::array<std::string_view, 3> kMultipart{"multipart/alternative", "multipart/mixed",
                                                              "multipart/related"};
  value = util::trim(value);
  std::size_t end = 0;
  while (end < value.size() && value[end] != ';' && !is_wsp(value[end]) && value[end] != '(') ++end;
  const std::string_view type = value.substr(0, end);
  if (util::istarts_with(type, "text/") && type.size() > 5) return true;
  for (std::string_view m : kMultipart)
    if (util::iequals(type, m)) return true;
  return false;
}

// "content-type" / "content-disposition" (ASCII case-insensitive), optional white
// space, then ':'. Returns the text after the colon, or nullopt.
std::optional<std::string_view> field_value(std::string_view line, std::string_view name) {
  if (!util::istarts_with(line, name)) return std::nullopt;
  std::size_t i = name.size();
  while (i < line.size() && is_wsp(line[i])) ++i;
  if (i >= line.size() || line[i] != ':') return std::nullopt;
  return line.substr(i + 1);
}

}  // namespace

bool surely_without_attachments(std::string_view message) {
  // The Content-Type being read: its value so far, unfolded (folds may carry the type).
  std::optional<std::string> content_type;
  auto plain = [](const std::string& value) { return plain_media_type(value) && !util::icontains(value, "name"); };
  std::size_t pos = 0;
  while (pos <= message.size()) {
    std::size_t end = message.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(pos, end - pos);
    pos = end + 1;
    // An empty line does not end a Content-Type's folds here: a parser that reads a
    // stray CR differently must not find a file name this scan skipped.
    if (line.empty()) continue;
    const bool folded = is_wsp(line.front());
    std::size_t start = 0;
    while (start < line.size() && is_wsp(line[start])) ++start;
    const std::string_view text = line.substr(start);
    if (folded && content_type) {
      // A field on a folded line is read as one too.
      if (util::istarts_with(text, "content-")) return false;
      *content_type += ' ';
      *content_type += text;
      continue;
    }
    if (content_type && !plain(*content_type)) return false;
    content_type.reset();
    if (!util::istarts_with(text, "content-")) continue;
    if (field_value(text, "content-disposition")) return false;
    if (auto value = field_value(text, "content-type")) content_type = std::string(*value);
  }
  return !content_type || plain(*content_type);
}

}  // namespace mailmoat::attachments
