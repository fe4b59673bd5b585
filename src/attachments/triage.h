// Triage (issue 9): the fast, in-gateway pass over a message's attachments,
// before queueing. It computes the facts (name, types, size, SHA-256) and the
// cheap verdicts: SHA-256 block list -> malicious, allow list -> clean, a
// verdict already cached for that SHA-256, banned true types and extensions.
// It never opens the content beyond libmagic's look at its head: deep
// analysis happens in sandbox workers (src/attachments/sandbox/).
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attachments/facts.h"
#include "attachments/mime_parts.h"

namespace mailmoat::attachments {

struct TriageConfig {
  std::set<std::string> block_sha256;  // lower-case hex
  std::set<std::string> allow_sha256;
  std::set<std::string> banned_types;       // true types, e.g. "application/x-dosexec"
  std::set<std::string> banned_extensions;  // lower case, without the dot
};

// Content analysis results by SHA-256 (never name-based findings), so that one
// file sent to a thousand recipients is analysed once. Bounded LRU; thread-safe. Scan errors are never cached (a
// retry may succeed).
class VerdictCache {
 public:
  explicit VerdictCache(std::size_t capacity = 10000) : capacity_(capacity) {}
  std::optional<Analysis> find(const std::string& sha256);
  void store(const std::string& sha256, const Analysis& analysis);
  std::size_t size() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::pair<std::string, Analysis>> order_;  // front: most recent
  std::unordered_map<std::string, std::list<std::pair<std::string, Analysis>>::iterator> index_;
};

struct TriageResult {
  std::vector<AttachmentFacts> attachments;
  std::vector<std::string> contents;  // decoded bytes, parallel to attachments
  std::string message_text;           // text bodies, for archive passwords
  bool truncated = false;             // MIME walk limits reached: scan incomplete
};

// Facts for one decoded part (no MIME involved): used by triage and by tests.
AttachmentFacts triage_part(const MimePart& part, const TriageConfig& config, VerdictCache* cache);

TriageResult triage(std::string_view message, const TriageConfig& config, VerdictCache* cache);

}  // namespace mailmoat::attachments
