#include "smtp/protocol/content.h"

#include <cstring>

namespace mailmoat::smtp {

ContentReader::ContentReader(Mode mode, ContentLimits limits) : mode_(mode), limits_(limits) {}

void ContentReader::fail(Reply r) {
  status_ = Status::protocol_error;
  protocol_reply_ = std::move(r);
}

void ContentReader::limit(Reply r) {
  if (!limit_reply_) limit_reply_ = std::move(r);
}

void ContentReader::emit(std::string_view bytes) {
  while (!bytes.empty()) {
    std::size_t room = limits_.max_line_length > line_len_ ? limits_.max_line_length - line_len_ : 0;
    std::string_view part = bytes.substr(0, room);
    if (room == 0) {
      if (limits_.long_lines == LongLines::reject) {
        limit(Reply(554, "5.6.0", "Message has a line longer than " + std::to_string(limits_.max_line_length) +
                                      " characters (RFC 5322 section 2.1.1)"));
        total_ += bytes.size();  // counted, not stored: the message is refused anyway
        line_len_ += bytes.size();
        return;
      }
      // Wrap: a header line is folded (CRLF SP keeps it one field), a body line broken.
      ++wrapped_;
      if (total_ + 3 <= limits_.max_message_size) message_ += in_header_ ? "\r\n " : "\r\n";
      total_ += in_header_ ? 3 : 2;
      line_len_ = in_header_ ? 1 : 0;
      continue;
    }
    if (total_ + part.size() <= limits_.max_message_size) {
      message_.append(part);
    } else {
      limit(Reply(552, "5.3.4", "Message size exceeds fixed limit of " + std::to_string(limits_.max_message_size) +
                                    " bytes"));
    }
    total_ += part.size();
    line_len_ += part.size();
    if (in_header_) header_bytes_ += part.size();
    bytes.remove_prefix(part.size());
  }
}

void ContentReader::end_line() {
  if (in_header_ && line_len_ == 0) in_header_ = false;  // the empty line ends the header section
  if (total_ + 2 <= limits_.max_message_size) message_ += "\r\n";
  total_ += 2;
  if (in_header_) {
    header_bytes_ += 2;
    if (header_bytes_ > limits_.max_header_size)
      limit(Reply(552, "5.3.4", "Message header section exceeds " + std::to_string(limits_.max_header_size) +
                                    " bytes"));
  }
  line_len_ = 0;
  state_ = State::line_start;
}

std::size_t ContentReader::consume(std::string_view in) {
  static const Reply bare_lf(554, "5.5.2", "Bare <LF> received; line ends must be <CR><LF> (RFC 5321 section 2.3.8)");
  static const Reply bare_cr(554, "5.5.2", "Bare <CR> received; line ends must be <CR><LF> (RFC 5321 section 2.3.8)");
  std::size_t i = 0;
  while (i < in.size() && status_ == Status::need_more) {
    char c = in[i];
    switch (state_) {
      case State::line_start:
        dot_line_ = false;
        if (mode_ == Mode::data && c == '.') {
          state_ = State::after_dot;
          ++i;
        } else {
          state_ = State::in_line;
        }
        break;
      case State::after_dot:
        if (c == '\r') {
          dot_line_ = true;
          state_ = State::saw_cr;
          ++i;
        } else if (c == '\n') {
          if (limits_.line_endings == LineEndings::strict) {
            fail(bare_lf);
          } else {
            status_ = Status::complete;
          }
          ++i;
        } else {
          state_ = State::in_line;  // dot-stuffing: the leading dot is dropped
        }
        break;
      case State::in_line: {
        const char* start = in.data() + i;
        std::size_t n = in.size() - i;
        const void* cr = std::memchr(start, '\r', n);
        const void* lf = std::memchr(start, '\n', n);
        const char* stop = start + n;
        if (cr) stop = static_cast<const char*>(cr);
        if (lf && static_cast<const char*>(lf) < stop) stop = static_cast<const char*>(lf);
        emit(std::string_view(start, static_cast<std::size_t>(stop - start)));
        i += static_cast<std::size_t>(stop - start);
        if (i < in.size()) {
          if (in[i] == '\r') {
            state_ = State::saw_cr;
          } else if (limits_.line_endings == LineEndings::strict) {
            fail(bare_lf);
          } else {
            end_line();
          }
          ++i;
        }
        break;
      }
      case State::saw_cr:
        if (c != '\n') {
          fail(bare_cr);
          break;
        }
        ++i;
        if (dot_line_) {
          status_ = Status::complete;
        } else {
          end_line();
        }
        break;
    }
  }
  return i;
}

void ContentReader::finish_bdat() {
  if (status_ != Status::need_more) return;
  if (state_ == State::saw_cr) {
    fail(Reply(554, "5.5.2", "Bare <CR> at the end of the message"));
    return;
  }
  if (state_ == State::in_line && line_len_ > 0) end_line();
  status_ = Status::complete;
}

}  // namespace mailmoat::smtp
