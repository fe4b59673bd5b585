// The append-only spill file of the trace recorder and its position file.
// Appends are plain write()s (cheap, safe from the SMTP path); sync() is the
// fsync the writer issues once per batch while the store is down. The position
// file remembers how far a replay got, so a restart does not replay what the
// store already has.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/recorder/spill_codec.h"
#include "util/error.h"

namespace mailmoat::store::recorder {

struct SpilledEvent {
  std::uint64_t seq = 0;
  TraceEvent event;
};

class SpillFile {
 public:
  SpillFile() = default;
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Opens (creating) `path` and `path`.pos; cuts a torn or corrupt tail off.
  util::Result<void> open(const std::string& path);
  util::Result<void> append(const std::string& bytes);
  util::Result<void> sync();
  // Up to `max` records starting at `from`, not reading past `end`; `next` is
  // the offset after the last record returned.
  util::Result<std::vector<SpilledEvent>> read(std::uint64_t from, std::uint64_t end, std::size_t max,
                                               std::uint64_t& next);
  util::Result<void> truncate();  // empties the file (the position is the caller's to save)
  util::Result<void> save_position(std::uint64_t offset);

  std::uint64_t end() const { return end_; }
  std::uint64_t start_position() const { return start_; }
  std::uint64_t max_seq() const { return max_seq_; }  // of the records found at open

 private:
  int fd_ = -1;
  int pos_fd_ = -1;
  std::string path_;
  std::uint64_t end_ = 0, start_ = 0, max_seq_ = 0;
};

}  // namespace mailmoat::store::recorder
