#include "attachments/triage.h"


#include "attachments/analyzers/analyzers.h"
#include "attachments/digest.h"
#include "attachments/true_type.h"

namespace mailmoat::attachments {

std::optional<Analysis> VerdictCache::find(const std::string& sha256) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(sha256);
  if (it == index_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void VerdictCache::store(const std::string& sha256, const Analysis& analysis) {
  if (analysis.verdict == Verdict::scan_error || capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  auto it = index_.find(sha256);
  if (it != index_.end()) {
    it->second->second = analysis;
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.emplace_front(sha256, analysis);
  index_[sha256] = order_.begin();
  if (order_.size() > capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
}

std::size_t VerdictCache::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

AttachmentFacts triage_part(const MimePart& part, const TriageConfig& config, VerdictCache* cache) {
  AttachmentFacts f;
  f.name = part.name;
  f.extension = extension_of(part.name);
  f.declared_type = part.declared_type;
  f.true_type = true_type(part.content);
  f.size = part.content.size();
  f.sha256 = sha256_hex(part.content);
  f.part_index = part.leaf_index;
  f.executable = is_executable_type(f.true_type) || is_script_extension(f.extension);
  f.analysis.ran("triage");
  if (config.block_sha256.contains(f.sha256)) {
    f.analysis.flag(Verdict::malicious, "sha256 on block list");
    f.decided = true;
  } else if (config.allow_sha256.contains(f.sha256)) {
    f.analysis.reasons.push_back("sha256 on allow list");
    f.decided = true;
  } else if (config.banned_types.contains(f.true_type)) {
    f.analysis.flag(Verdict::malicious, "banned true type " + f.true_type);
    f.decided = true;
  } else if (!f.extension.empty() && config.banned_extensions.contains(f.extension)) {
    f.analysis.flag(Verdict::malicious, "banned extension ." + f.extension);
    f.decided = true;
  }
  // Name checks depend on the name, so they run here on every copy; the
  // cache holds what depends on content alone (the sandbox's analysis).
  analyze_name(f.name, f.true_type, f.analysis);
  analyze_kind(f.extension, f.true_type, f.analysis);
  if (!f.decided && cache) {
    if (auto cached = cache->find(f.sha256)) {
      f.analysis.merge(*cached);
      f.analysis.ran("cache");
      f.decided = true;
    }
  }
  return f;
}

TriageResult triage(std::string_view message, const TriageConfig& config, VerdictCache* cache) {
  MimeWalk walk = walk_mime(message);
  TriageResult r;
  r.truncated = walk.truncated;
  r.message_text = std::move(walk.text);
  for (auto& part : walk.parts) {
    r.attachments.push_back(triage_part(part, config, cache));
    r.contents.push_back(std::move(part.content));
  }
  return r;
}

}  // namespace mailmoat::attachments
