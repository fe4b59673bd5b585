// Zero-copy view of an RFC 5322 message (section 2.1-2.2): header fields with
// their folding kept byte for byte (DKIM's simple canonicalization needs the
// raw bytes) and the body. The view borrows the caller's buffer, which must
// use CRLF line endings; normalize_line_endings() turns LF-only input into
// CRLF first (a bare LF becomes CRLF, a bare CR is left as it is).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::mail {

struct HeaderField {
  std::string_view name;   // as written, without trailing white space before the colon
  std::string_view value;  // everything after the colon, folding kept, without the final CRLF
  std::string_view raw;    // the whole field without the final CRLF
  std::size_t offset = 0;  // of raw in the message buffer
};

struct Limits {
  std::size_t max_header_bytes = std::size_t{1024} * 1024;
  std::size_t max_fields = 2000;
};

class Message {
 public:
  // Splits `bytes` (CRLF line endings) into header fields and body. Fails on a
  // header line that is neither a field nor a continuation, or past a limit.
  static util::Result<Message> parse(std::string_view bytes, const Limits& limits = {});

  const std::vector<HeaderField>& fields() const { return fields_; }
  // Case-insensitive; in message order (top first).
  std::vector<const HeaderField*> find_all(std::string_view name) const;
  const HeaderField* find_first(std::string_view name) const;
  std::size_t count(std::string_view name) const;

  std::string_view header_section() const { return header_; }  // including the empty line if any
  std::string_view body() const { return body_; }
  bool has_separator() const { return has_separator_; }
  std::string_view bytes() const { return bytes_; }

 private:
  std::string_view bytes_, header_, body_;
  std::vector<HeaderField> fields_;
  bool has_separator_ = false;
};

// True when `bytes` holds a LF not preceded by CR.
bool needs_normalization(std::string_view bytes);
// Copy of `bytes` with every bare LF turned into CRLF.
std::string normalize_line_endings(std::string_view bytes);

}  // namespace mailmoat::mail
