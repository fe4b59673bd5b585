// Message content as it arrives after DATA (RFC 5321 §4.1.4, §4.5.2) or in
// BDAT chunks (RFC 3030), checked against the smuggling rules and the limits.
// End of data is <CR><LF>.<CR><LF> only; a bare CR or LF anywhere is a
// protocol error (CVE-2023-51764/51765/51766) unless the listener normalizes
// bare LF for a trusted relay. Limits never cut content silently: an
// exceeded limit becomes the reply given at end of data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "smtp/protocol/reply.h"

namespace mailmoat::smtp {

enum class LineEndings { strict, normalize_lf };
enum class LongLines { reject, wrap };

struct ContentLimits {
  std::uint64_t max_message_size = std::uint64_t{50} * 1024 * 1024;
  std::size_t max_line_length = 998;  // octets, excluding CRLF (RFC 5322 §2.1.1)
  std::size_t max_header_size = std::size_t{256} * 1024;
  LongLines long_lines = LongLines::reject;
  LineEndings line_endings = LineEndings::strict;
};

// Reads content, for DATA (dot-stuffed, ends at CRLF.CRLF) or BDAT (raw chunks).
class ContentReader {
 public:
  enum class Mode { data, bdat };
  enum class Status { need_more, complete, protocol_error };

  ContentReader(Mode mode, ContentLimits limits);

  // Consumes bytes of `input` and returns how many it used. In DATA mode it
  // stops right after the end-of-data line, leaving what follows (pipelined
  // commands) to the caller. In BDAT mode it uses everything given.
  std::size_t consume(std::string_view input);
  // BDAT LAST: the content is complete (a final line without CRLF is closed).
  void finish_bdat();

  Status status() const { return status_; }
  Mode mode() const { return mode_; }
  // With protocol_error: the reply to send before closing the connection.
  const Reply& protocol_reply() const { return protocol_reply_; }
  // With complete: a limit that was exceeded, to reply instead of accepting.
  const std::optional<Reply>& limit_reply() const { return limit_reply_; }
  std::uint64_t size() const { return total_; }
  std::string take_message() { return std::move(message_); }
  // Counts of lines that were wrapped or bare LFs that were normalized.
  std::size_t wrapped_lines() const { return wrapped_; }

 private:
  enum class State { line_start, after_dot, in_line, saw_cr };
  void emit(std::string_view bytes);
  void end_line();
  void fail(Reply r);
  void limit(Reply r);

  Mode mode_;
  ContentLimits limits_;
  State state_ = State::line_start;
  Status status_ = Status::need_more;
  bool dot_line_ = false;    // the current line is exactly "." so far
  bool in_header_ = true;    // still in the header section
  bool header_line_ = true;  // current line belongs to the header section
  std::size_t line_len_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t header_bytes_ = 0;
  std::size_t wrapped_ = 0;
  std::string message_;
  Reply protocol_reply_;
  std::optional<Reply> limit_reply_;
};

}  // namespace mailmoat::smtp
