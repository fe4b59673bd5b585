#include "auth/dkim/canonicalization.h"

#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Relaxed: runs of WSP become one SP, WSP at the end goes (RFC 6376 3.4.4/3.4.2).
// Headers (unfold) also lose leading WSP, since WSP after the colon is removed.
std::string compress_wsp(std::string_view s, bool unfold) {
  std::string out;
  out.reserve(s.size());
  bool in_wsp = false;
  for (char c : s) {
    if (unfold && (c == '\r' || c == '\n')) continue;
    if (is_wsp(c)) { in_wsp = true; continue; }
    if (in_wsp && (!out.empty() || !unfold)) out.push_back(' ');
    in_wsp = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string canonicalize_header(std::string_view raw_field, Canon canon) {
  if (canon == Canon::simple) return std::string(raw_field) + "\r\n";
  std::size_t colon = raw_field.find(':');
  std::string_view name = raw_field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : raw_field.substr(colon + 1);
  return util::to_lower(name) + ":" + compress_wsp(value, true) + "\r\n";
}

BodyHasher::BodyHasher(Canon canon, std::optional<std::uint64_t> limit) : canon_(canon), limit_(limit) {}

void BodyHasher::emit(std::string_view bytes) {
  total_ += bytes.size();
  if (limit_) {
    std::uint64_t room = *limit_ > hashed_ ? *limit_ - hashed_ : 0;
    if (bytes.size() > room) bytes = bytes.substr(0, room);
  }
  hashed_ += bytes.size();
  sha_.update(bytes);
}

void BodyHasher::line(std::string_view content) {
  std::string relaxed;
  if (canon_ == Canon::relaxed) {
    relaxed = compress_wsp(content, false);
    content = relaxed;
  }
  if (content.empty()) {  // empty lines are held back: trailing ones are dropped
    ++pending_empty_;
    return;
  }
  for (; pending_empty_ > 0; --pending_empty_) emit("\r\n");
  emit(content);
  emit("\r\n");
  any_line_ = true;
}

void BodyHasher::update(std::string_view chunk) {
  while (!chunk.empty()) {
    std::size_t lf = chunk.find('\n');
    if (lf == std::string_view::npos) {
      partial_.append(chunk);
      return;
    }
    std::string_view piece = chunk.substr(0, lf + 1);
    chunk.remove_prefix(lf + 1);
    if (!partial_.empty()) {
      partial_.append(piece);
      piece = partial_;
    }
    // Only CRLF ends a line; a bare LF stays part of the line's content.
    if (piece.size() >= 2 && piece[piece.size() - 2] == '\r') {
      line(piece.substr(0, piece.size() - 2));
      partial_.clear();
    } else if (piece.data() != partial_.data()) {
      partial_.append(piece);
    }
  }
}

std::string BodyHasher::finish() {
  if (!partial_.empty()) {  // a body not ending in CRLF gets one (3.4.3, 3.4.4)
    std::string last = std::move(partial_);
    partial_.clear();
    line(last);
  }
  // Simple canonicalization of an empty body is one CRLF (3.4.3); relaxed is empty.
  if (!any_line_ && canon_ == Canon::simple) emit("\r\n");
  return sha_.finish();
}

std::string canonicalize_body(std::string_view body, Canon canon) {
  // Re-run the same state machine, collecting the output instead of hashing.
  std::string out;
  std::uint64_t pending = 0;
  bool any = false;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t e = body.find("\r\n", pos);
    std::string_view content = body.substr(pos, (e == std::string_view::npos ? body.size() : e) - pos);
    pos = e == std::string_view::npos ? body.size() : e + 2;
    std::string c = canon == Canon::relaxed ? compress_wsp(content, false) : std::string(content);
    if (c.empty()) { ++pending; continue; }
    for (; pending > 0; --pending) out += "\r\n";
    out += c + "\r\n";
    any = true;
  }
  if (!any && canon == Canon::simple) out = "\r\n";
  return out;
}

}  // namespace mailmoat::auth::dkim
