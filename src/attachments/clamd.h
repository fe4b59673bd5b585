// ClamAV through clamd's INSTREAM command (clamd(8): "zINSTREAM\0", chunks
// of a 4-byte big-endian length and data, a zero-length chunk, one reply
// "stream: OK" / "stream: NAME FOUND" / "... ERROR"). Runs in the gateway,
// not in the workers: the sandbox forbids sockets. Blocking with a deadline;
// a clamd that is down or slow yields `scan error`, never a clean verdict.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "attachments/facts.h"

namespace mailmoat::attachments {

class ClamdClient {
 public:
  // "unix:/run/clamav/clamd.ctl", "/path/clamd.sock" or "host:port".
  explicit ClamdClient(std::string address) : address_(std::move(address)) {}
  Analysis scan(std::string_view content, std::chrono::milliseconds deadline) const;

 private:
  std::string address_;
};

}  // namespace mailmoat::attachments
