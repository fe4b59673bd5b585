// The entry point of deep analysis (issue 9): one attachment's bytes in, one
// Analysis out. Detects the kind from content and runs the matching static
// analyzers; archives are opened recursively with libarchive under limits
// (Amavis-like defaults) and never expanded past them. Runs in sandbox
// workers (sandbox/worker.h), never in the gateway.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "attachments/facts.h"

namespace mailmoat::attachments {

struct ArchiveLimits {
  std::size_t max_depth = 8;
  std::size_t max_files = 1000;
  std::uint64_t max_bytes = 500ull << 20;  // total expanded
  std::uint64_t max_ratio = 100;           // expanded : compressed
};

struct AnalysisRequest {
  std::string name;
  std::string content;
  std::vector<std::string> passwords;  // candidates from the message text
  ArchiveLimits limits;
  // The gateway checks the attachment's own name in triage (names vary for
  // one SHA-256, and verdicts are cached by SHA-256); then this is false.
  bool check_name = true;
};

class YaraRules;
// `yara`: rules every file and archive member is scanned with (may be null).
Analysis analyze(const AnalysisRequest& request, const YaraRules* yara = nullptr);

}  // namespace mailmoat::attachments
