// The durable spool (Postfix's queue file idea): one file per message,
// written under tmp/, fsync'd, renamed into queue/ and the directory fsync'd
// before the client hears 250. Concurrent stores share the directory fsync
// (util::GroupSync: one fsync that started after a store's rename covers it). The file is self-validating (magic, lengths,
// CRC-32), so after a crash at any instant queue/ holds complete messages
// and tmp/ only never-acknowledged leftovers, which recovery discards.
// Delivery state lives beside it in <id>.state, replaced atomically.
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

class Spool {
 public:
  explicit Spool(std::string directory);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  // Creates tmp/, queue/ and corrupt/. Fails with a reason when it cannot.
  util::Result<void> open();
  // Durably stores the message; on success the caller may acknowledge it.
  util::Result<void> store(const QueuedMessage& meta, std::string_view message);
  util::Result<std::string> read_message(const std::string& id) const;
  // Replaces the delivery state of a stored message (atomic rename).
  util::Result<void> save_state(const QueuedMessage& meta);
  void remove(const std::string& id);
  RecoveryReport recover();
  const std::string& directory() const { return dir_; }

 private:
  struct QueueDirSync;
  std::string dir_;
  std::unique_ptr<QueueDirSync> queue_dir_sync_;  // set by open()
};

std::string encode_meta(const QueuedMessage& m);
util::Result<QueuedMessage> decode_meta(std::string_view json);

}  // namespace mailmoat::queue
