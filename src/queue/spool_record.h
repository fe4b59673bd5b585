// The spool's record and the file I/O around it (src/queue/spool.cpp keeps the
// directory layout, segments and recovery). A record, little-endian: magic
// "MMQ1", u32 metadata length, the metadata (JSON, encode_meta), u64 message
// length, the message, CRC-32 of everything before it. A message file holds
// one record; a segment holds many, back to back.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "queue/queued_message.h"
#include "util/error.h"

namespace mailmoat::queue {

struct ParsedRecord {
  std::string meta;
  std::string_view body;   // into the parsed bytes
  std::size_t length = 0;  // bytes of the record
};
// One record at the start of `data`, which may continue (the next record of a segment).
util::Result<ParsedRecord> parse_record(std::string_view data);
// A message file: exactly one record.
util::Result<ParsedRecord> parse_file(std::string_view data);

// The bytes of a record around its message.
struct Framing {
  std::string head;
  std::string tail;
};
Framing frame(const QueuedMessage& meta, std::string_view message);

// The <id>.state file: the delivery state that changes after spooling.
std::string encode_state(const QueuedMessage& meta);
// Applies a state file to `meta`; what cannot be read is ignored (the message
// is then retried from its original state: at least once).
void apply_state(std::string_view json, QueuedMessage& meta);

// "what: <errno text>".
std::string errno_text(const std::string& what);
// Three pieces in one system call, resumed after a short write: at the file
// position (at < 0, writev) or at offset `at` (pwritev).
bool write_all(int fd, std::string_view a, std::string_view b, std::string_view c, off_t at = -1);
bool pread_all(int fd, std::string& out, std::size_t length, std::uint64_t at);
util::Result<std::string> read_file(const std::string& path);
// Writes `content` to path via a temporary file, fsync and rename.
util::Result<void> replace_file(const std::string& path, const std::string& content);

}  // namespace mailmoat::queue
