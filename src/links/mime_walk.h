// Walks a message's MIME tree (RFC 2045-2046) and lets an editor change the
// decoded text of each text/plain and text/html part that is not an attachment;
// the changed parts are re-encoded in their own transfer encoding (lines <= 998
// for 7bit/8bit) and every other byte, the MIME structure included, is kept.
// Shared by Safe Links (URL rewriting) and the rules' disclaimer action. Signed
// or encrypted entities (S/MIME, PGP) are never entered: they are counted as refused.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "links/gmime_adaptor.h"

namespace mailmoat::links {

struct PartChange {
  std::optional<std::string> text;  // the new decoded text; nullopt: leave the part as it is
  std::string refused;              // non-empty: the part needed a change that cannot be made, and why
  // Re-declare the part: its charset parameter (e.g. US-ASCII text that now holds
  // UTF-8) and its transfer encoding (7bit text that now holds 8-bit bytes).
  std::optional<std::string> charset;
  std::optional<gmime::TransferEncoding> encoding;
};

struct TextPartView {
  std::string_view decoded;  // transfer-decoded bytes, in the part's charset
  const gmime::ContentType& type;
  gmime::TransferEncoding encoding;
  bool eight_bit = false;    // 8-bit bytes may go into the part (8bit/binary, or an encoding that hides them)
  const std::string& where;  // "part 1.2", for notes
};

using TextEditor = std::function<PartChange(const TextPartView& part)>;

struct WalkOptions {
  std::size_t max_part_bytes = std::size_t{16} * 1024 * 1024;  // larger decoded parts are refused
  bool enter_attached_messages = true;             // message/rfc822 parts (forwarded mail)
};

struct WalkOutcome {
  std::optional<std::string> body;  // the new body (after the header/body separator), when changed
  std::size_t changed = 0;          // text parts changed
  std::size_t refused = 0;          // parts that could not be changed (signed, encrypted, undecodable...)
  std::vector<std::string> notes;   // why, per part, for the trace
  // When the message itself is the changed text part and was re-declared: the
  // header fields (Content-Type, Content-Transfer-Encoding) to set on it.
  std::vector<std::pair<std::string, std::string>> message_headers;
};

// `message` has CRLF line ends. Never fails: what cannot be changed is left and noted.
WalkOutcome edit_text_parts(std::string_view message, const WalkOptions& options, const TextEditor& editor);

// Charsets in which every byte below 0x80 is the ASCII character, inside and
// outside multibyte sequences, so ASCII markup can be found and inserted in the
// raw bytes without converting the part (and without a lossy round trip).
bool ascii_transparent(const std::string& charset);

}  // namespace mailmoat::links
