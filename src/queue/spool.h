// The durable spool. Two homes for a message, both self-validating records
// (magic, lengths, CRC-32), both durable before the client hears 250:
//  - segments/: a message due for delivery now (most mail) is appended to the
//    current segment file, many messages per file, and concurrent stores share
//    one fdatasync (util::GroupSync: a sync that started after a store's write
//    covers it). Delivered or deleted messages are marked in <segment>.done; a
//    segment whose messages are all done is unlinked. No create, rename or
//    unlink per message.
//  - queue/: one file per message (Postfix's queue file idea), written under
//    tmp/, fsync'd, renamed into queue/ and the directory fsync'd (shared by
//    concurrent stores). Used for held, delayed and large messages, and for any
//    segment message whose delivery state must be saved (a deferral, a hold):
//    it moves here first. Delivery state lives beside it in <id>.state.
// After a crash at any instant, recovery finds every acknowledged message:
// segment records up to the first torn one (the tail nobody was told 250
// about), minus those marked done, and the complete files of queue/; tmp/
// holds only never-acknowledged leftovers, which it discards.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "queue/queued_message.h"
#include "util/error.h"

namespace mailmoat::queue {

class QueueIdGenerator {
 public:
  explicit QueueIdGenerator(std::string_view node_id);
  // Unique across restarts (time-based) and nodes (node id suffix).
  std::string next(std::int64_t unix_micros);

 private:
  std::string node_;
  std::mutex mu_;
  std::int64_t last_micros_ = 0;
  std::uint32_t counter_ = 0;
};

// A node id usable in queue ids and file names: lower-case letters and digits.
std::string sanitize_node_id(std::string_view raw);

struct RecoveryReport {
  std::vector<QueuedMessage> messages;
  std::size_t discarded_incomplete = 0;  // tmp/ leftovers, never acknowledged
  std::vector<std::string> corrupt;      // queue/ files that failed validation, moved to corrupt/
};

struct SpoolOptions {
  // A segment takes no more appends once it is this large; 0: no segments,
  // every message gets its own file in queue/.
  std::uint64_t segment_bytes = 32ull << 20;
  // Larger messages get their own file.
  std::uint64_t segment_max_message = 1ull << 20;
};

class Spool {
 public:
  explicit Spool(std::string directory, SpoolOptions options = {});
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  // Creates tmp/, queue/, segments/ and corrupt/. Fails with a reason when it cannot.
  util::Result<void> open();
  // Durably stores the message; on success the caller may acknowledge it.
  util::Result<void> store(const QueuedMessage& meta, std::string_view message);
  util::Result<std::string> read_message(const std::string& id) const;
  // Replaces the delivery state of a stored message (atomic rename); a message
  // in a segment first moves to its own file.
  util::Result<void> save_state(const QueuedMessage& meta);
  void remove(const std::string& id);
  // Removes a message kept in a segment (one short write, no sync: fine on any
  // thread); false when it has its own file, which remove() deletes.
  bool remove_if_in_segment(const std::string& id);
  RecoveryReport recover();
  const std::string& directory() const { return dir_; }
  // Segment files on disk now (for tests and metrics).
  std::size_t segment_count() const;

 private:
  struct QueueDirSync;
  struct Segments;
  util::Result<void> store_file(const std::string& id, const std::string& head, std::string_view message,
                                const std::string& tail);
  std::string dir_;
  SpoolOptions options_;
  std::unique_ptr<QueueDirSync> queue_dir_sync_;  // set by open()
  std::unique_ptr<Segments> segments_;            // set by open() unless options_.segment_bytes is 0
};

std::string encode_meta(const QueuedMessage& m);
util::Result<QueuedMessage> decode_meta(std::string_view json);

}  // namespace mailmoat::queue
