// Recursive archive reading under limits (see analyze.h for the defaults).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "attachments/analyze.h"
#include "attachments/facts.h"

namespace mailmoat::attachments {

// Shared by every level of one attachment, so limits hold for the whole tree.
struct ArchiveWalk {
  ArchiveLimits limits;
  std::uint64_t compressed = 0;  // size of the outermost attachment
  std::uint64_t expanded = 0;
  std::size_t files = 0;
};

using ArchiveVisitor = std::function<void(const std::string& name, const std::string& data, Analysis& out)>;

// Calls `visit` for every regular member; false when `bytes` is no archive
// libarchive can read. Findings (limits, encryption, corruption) go to `out`.
// `single_stream`: also accept a compressed stream that is no archive (a
// lone .gz/.bz2/.xz file), as one member named "data".
bool read_archive(std::string_view bytes, const std::vector<std::string>& passwords, ArchiveWalk& walk,
                  const ArchiveVisitor& visit, Analysis& out, bool single_stream = false);

}  // namespace mailmoat::attachments
