// A safe preview of a quarantined message for an administrator: the top-level
// header fields with RFC 2047 encoded-words decoded (RFC 2047 section 6), the
// first text/plain body, the first text/html body reduced to plain text (no
// markup, no scripts, no styles, nothing fetched: link targets are shown as
// text), and the list of attachments with their size and SHA-256. Everything
// is bounded and control characters are removed, so the output can be shown
// anywhere; a message GMime cannot parse still yields its header fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailmoat::mail {

struct PreviewAttachment {
  std::string name;  // decoded file name; "" when the part has none
  std::string type;  // declared "type/subtype", lower case
  std::uint64_t size = 0;  // decoded bytes
  std::string sha256;      // lower-case hex of the decoded bytes
};

struct Preview {
  std::vector<std::pair<std::string, std::string>> headers;  // name, decoded unfolded value
  std::string text;          // first inline text/plain part, UTF-8
  std::string html_as_text;  // first inline text/html part reduced to text
  std::vector<PreviewAttachment> attachments;
  bool truncated = false;    // a limit below cut something off
};

struct PreviewLimits {
  std::size_t max_headers = 200;
  std::size_t max_header_value = std::size_t{8} * 1024;
  std::size_t max_text = std::size_t{256} * 1024;
  std::size_t max_parts = 1000;
  std::size_t max_depth = 32;
};

// Never fails and never throws.
Preview preview_message(std::string_view message, const PreviewLimits& limits = {});

// HTML to readable text: block elements become line breaks, <a href> shows its
// target in angle brackets, <img> its alt text; script, style, head, template are dropped.
std::string html_to_text(std::string_view html, std::size_t limit);

}  // namespace mailmoat::mail
