#include "auth/dkim/canonicalization.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "util/strings.h"

namespace mailmoat::auth::dkim {
namespace {

bool is_wsp(char c) { return c == ' ' || c == '\t'; }

// Relaxed: runs of WSP become one SP, WSP at the end goes (RFC 6376 3.4.4/3.4.2).
// Headers (unfold) also lose CR/LF and leading WSP, since WSP after the colon
// is removed. This is the hot loop of body canonicalization.
void compress_wsp_into(std::string& out, std::string_view s, bool unfold) {
  // 1: WSP (becomes at most one SP), 2: CR/LF dropped when unfolding.
  static constexpr auto kClass = [] {
    std::array<unsigned char, 256> t{};
    t[' '] = t['\t'] = 1;
    t['\r'] = t['\n'] = 2;
    return t;
  }();
  // The output is never longer than the input: write through a pointer into
  // space reserved up front, then trim (one append per word was the cost).
  const unsigned char drop = unfold ? 2 : 0;
  const std::size_t start_size = out.size();
  out.resize(start_size + s.size());
  char* const first = out.data() + start_size;
  char* w = first;
  bool pending_space = false;
  const char* p = s.data();
  const char* const end = p + s.size();
  while (p < end) {
    const unsigned char k = kClass[static_cast<unsigned char>(*p)];
    if (k == 1) {
      pending_space = true;
    } else if (k != 0 && drop) {
      // CR/LF of a fold
    } else {
      if (pending_space && (w != first || !unfold)) *w++ = ' ';
      pending_space = false;
#if defined(__SSE2__)
      // The run of ordinary bytes from here (tag values such as h=, bh= and
      // the b= of other signatures have long ones) is copied 16 at a time.
      // Writing 16 bytes at w is in bounds: w never runs ahead of p.
      if (end - p >= 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i wsp = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')));
        const __m128i crlf = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));
        const auto special = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(wsp, crlf)));
        // At least 1: *p itself is copied (a CR/LF here is ordinary when not unfolding).
        const unsigned n = (special & ~1u) == 0 ? 16u : static_cast<unsigned>(__builtin_ctz(special & ~1u));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
        w += n;
        p += n;
        continue;
      }
#endif
      *w++ = *p;
    }
    ++p;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
}

#if defined(__SSE2__)
// Stores the 8 bytes of `x` (little-endian) without those whose bit is set in
// `drop` at `w` (all 8 are written; the dropped ones are later overwritten or
// trimmed) and returns the end of the kept ones. Bytes go from the highest
// dropped one down, so the positions still to drop do not move; a line has
// one or two to drop, so this beats a loop over all 8 bytes.
char* store_compacted(char* w, std::uint64_t x, unsigned drop) {
  unsigned kept = 8;  // not __builtin_popcount: without -mpopcnt that is a libgcc call
  while (drop != 0) {
    const unsigned i = 31 - static_cast<unsigned>(__builtin_clz(drop));
    const std::uint64_t below = (std::uint64_t{1} << (8 * i)) - 1;  // i <= 7: no shift by 64
    x = (x & below) | ((x >> 8) & ~below);
    drop &= ~(1u << i);
    --kept;
  }
  std::memcpy(w, &x, 8);
  return w + kept;
}
#endif

// The relaxed body rule for one line (no CR/LF inside), the hot loop of DKIM
// verification: 16 bytes at a time, tabs become spaces and only a WSP that
// follows a WSP is dropped; a block with nothing to drop is stored whole.
// Trailing WSP (at most one SP after this) is the caller's. Writes at most
// s.size() bytes at `w` and returns the end of what it wrote.
char* compress_body_line(char* w, std::string_view s) {
  const char* p = s.data();
  const char* const end = p + s.size();
  bool prev_wsp = false;
#if defined(__SSE2__)
  // Writing 16 bytes at w is in bounds: w never runs ahead of p.
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  while (end - p >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i is_tab = _mm_cmpeq_epi8(v, tab);
    const __m128i is_wsp = _mm_or_si128(_mm_cmpeq_epi8(v, space), is_tab);
    const unsigned wsp = static_cast<unsigned>(_mm_movemask_epi8(is_wsp));
    const unsigned drop = wsp & ((wsp << 1) | (prev_wsp ? 1u : 0u));
    v = _mm_or_si128(_mm_andnot_si128(is_tab, v), _mm_and_si128(is_tab, space));
    if (drop == 0) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w), v);
      w += 16;
    } else {  // each 8-byte half compacted in a register (no store-to-load stall)
      w = store_compacted(w, static_cast<std::uint64_t>(_mm_cvtsi128_si64(v)), drop & 0xffu);
      w = store_compacted(w, static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_srli_si128(v, 8))), drop >> 8);
    }
    prev_wsp = (wsp >> 15) & 1u;
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const bool wsp = *p == ' ' || *p == '\t';
    if (wsp && prev_wsp) continue;
    *w++ = wsp ? ' ' : *p;
    prev_wsp = wsp;
  }
  return w;
}

std::string compress_wsp(std::string_view s, bool unfold) {
  std::string out;
  out.reserve(s.size());
  compress_wsp_into(out, s, unfold);
  return out;
}

}  // namespace

void canonicalize_header_into(std::string& out, std::string_view raw_field, Canon canon) {
  if (canon == Canon::simple) {
    out.append(raw_field);
    out.append("\r\n");
    return;
  }
  std::size_t colon = raw_field.find(':');
  std::string_view name = raw_field.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : raw_field.substr(colon + 1);
  for (char c : name) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  out.push_back(':');
  compress_wsp_into(out, value, true);
  out.append("\r\n");
}

std::string canonicalize_header(std::string_view raw_field, Canon canon) {
  std::string out;
  out.reserve(raw_field.size() + 2);
  canonicalize_header_into(out, raw_field, canon);
  return out;
}

BodyHasher::BodyHasher(Canon canon, std::optional<std::uint64_t> limit) : canon_(canon), limit_(limit) {}

// Room for `n` more bytes in the digest buffer: full buffers go to SHA-256 in
// one update (per few kilobytes, not per line); a line longer than the buffer
// grows it. Raw storage, not a std::string, so making room zero-fills nothing.
char* BodyHasher::room(std::size_t n) {
  if (used_ + n > capacity_) {
    flush();
    if (n > capacity_) {
      capacity_ = std::max<std::size_t>(n, kBufferSize);
      buffer_ = std::make_unique_for_overwrite<char[]>(capacity_);
    }
  }
  return buffer_.get() + used_;
}

void BodyHasher::flush() {
  if (used_ > 0) sha_.update(std::string_view(buffer_.get(), used_));
  used_ = 0;
}

void BodyHasher::emit(std::string_view bytes) {
  total_ += bytes.size();
  if (limit_) {
    std::uint64_t room_left = *limit_ > hashed_ ? *limit_ - hashed_ : 0;
    if (bytes.size() > room_left) bytes = bytes.substr(0, room_left);
  }
  hashed_ += bytes.size();
  if (bytes.empty()) return;  // past l=: counted, not hashed
  std::memcpy(room(bytes.size()), bytes.data(), bytes.size());
  used_ += bytes.size();
}

void BodyHasher::emit_empty_lines() {
  for (; pending_empty_ > 0; --pending_empty_) emit("\r\n");
}

namespace {
bool only_wsp(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t') return false;
  return true;
}
}  // namespace

// Relaxed without l=: the line is canonicalized straight into the digest buffer.
inline void BodyHasher::relaxed_line(std::string_view content) {
  if (only_wsp(content)) {
    ++pending_empty_;  // empty once canonicalized: held back like any empty line
    return;
  }
  if (pending_empty_ > 0) emit_empty_lines();
  char* const first = room(content.size() + 2);
  char* w = compress_body_line(first, content);
  if (w[-1] == ' ') --w;  // not empty: the line has a non-WSP byte
  *w++ = '\r';
  *w++ = '\n';
  const auto n = static_cast<std::size_t>(w - first);
  used_ += n;
  total_ += n;
  hashed_ += n;
  any_line_ = true;
}

void BodyHasher::line(std::string_view content) {
  if (canon_ == Canon::relaxed && !limit_) {
    relaxed_line(content);
    return;
  }
  if (canon_ == Canon::relaxed) {
    scratch_.resize(content.size());
    scratch_.resize(static_cast<std::size_t>(compress_body_line(scratch_.data(), content) - scratch_.data()));
    if (!scratch_.empty() && scratch_.back() == ' ') scratch_.pop_back();
    content = scratch_;
  }
  if (content.empty()) {  // empty lines are held back: trailing ones are dropped
    ++pending_empty_;
    return;
  }
  emit_empty_lines();
  emit(content);
  emit("\r\n");
  any_line_ = true;
}

// The common case without a call per line: relaxed, no l=, no partial line
// held. Whole CRLF lines at the start of `chunk` go straight into the digest
// buffer; the rest (from a bare LF or an unfinished line) is returned.
std::string_view BodyHasher::relaxed_lines(std::string_view chunk) {
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p != end) {
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (!lf || lf == p || lf[-1] != '\r') break;
    relaxed_line(std::string_view(p, static_cast<std::size_t>(lf - 1 - p)));
    p = lf + 1;
  }
  return std::string_view(p, static_cast<std::size_t>(end - p));
}

void BodyHasher::update(std::string_view chunk) {
  if (canon_ == Canon::relaxed && !limit_ && partial_.empty()) chunk = relaxed_lines(chunk);
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
  flush();
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
