// DKIM canonicalization (RFC 6376 section 3.4): simple and relaxed for header
// fields, and a streaming body canonicalizer that hashes as bytes arrive,
// holding back only trailing empty lines and the current partial line, and
// stopping the hash at l= while still counting the bytes past it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/dkim/crypto.h"
#include "auth/dkim/signature.h"

namespace mailmoat::auth::dkim {

// One header field (name, colon, value, without the final CRLF) in the
// given canonical form, followed by CRLF.
std::string canonicalize_header(std::string_view raw_field, Canon canon);
// The same, appended to `out` (no temporary per field).
void canonicalize_header_into(std::string& out, std::string_view raw_field, Canon canon);

class BodyHasher {
 public:
  BodyHasher(Canon canon, std::optional<std::uint64_t> limit);

  void update(std::string_view chunk);
  // Completes the body; returns the SHA-256 of the (limited) canonical body.
  std::string finish();
  std::uint64_t canonical_length() const { return total_; }  // valid after finish()
  std::uint64_t hashed_length() const { return hashed_; }

 private:
  void line(std::string_view content);
  void relaxed_line(std::string_view content);
  std::string_view relaxed_lines(std::string_view chunk);
  void emit(std::string_view bytes);
  void emit_empty_lines();
  char* room(std::size_t n);
  void flush();

  static constexpr std::size_t kBufferSize = 16384;
  Canon canon_;
  std::optional<std::uint64_t> limit_;
  std::string partial_, scratch_;
  // Canonical bytes not yet hashed: buffer_[0, used_).
  std::unique_ptr<char[]> buffer_;
  std::size_t used_ = 0, capacity_ = 0;
  std::uint64_t pending_empty_ = 0, total_ = 0, hashed_ = 0;
  bool any_line_ = false;
  Sha256Stream sha_;
};

// Convenience: the canonical body of `body` (for tests and the signer's l=).
std::string canonicalize_body(std::string_view body, Canon canon);

}  // namespace mailmoat::auth::dkim
