// Archives through libarchive (zip, 7z, rar, tar, gzip, bzip2, xz, cab, ISO
// 9660), recursively. Limits are checked against declared sizes before
// reading and against bytes actually produced while reading, so a bomb stops
// at the limit instead of expanding (`suspicious: archive limits`).
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>

#include "attachments/analyzers/archive.h"
#include "attachments/analyzers/text_search.h"

namespace mailmoat::attachments {
namespace {

struct ArchiveCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveCloser>;

void limits_hit(Analysis& out, const std::string& what) {
  out.scan_incomplete = true;
  out.flag(Verdict::suspicious, "archive limits");
  out.flag(Verdict::clean, "archive limits: " + what);
}

}  // namespace

bool read_archive(std::string_view bytes, const std::vector<std::string>& passwords, ArchiveWalk& walk,
                  const ArchiveVisitor& visit, Analysis& out, bool single_stream) {
  ArchivePtr a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  if (single_stream) archive_read_support_format_raw(a.get());  // bids last: real formats win
  for (const auto& p : passwords) archive_read_add_passphrase(a.get(), p.c_str());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) return false;
  archive_entry* entry = nullptr;
  bool any = false;
  while (true) {
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) {
      if (!any) return false;
      out.scan_incomplete = true;
      out.flag(Verdict::suspicious, "archive: corrupt or truncated (" + std::string(archive_error_string(a.get()) ? archive_error_string(a.get()) : "read error") + ")");
      break;
    }
    any = true;
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    if (++walk.files > walk.limits.max_files) {
      limits_hit(out, "more than " + std::to_string(walk.limits.max_files) + " files");
      return true;
    }
    const char* path = archive_entry_pathname(entry);
    std::string name = path ? path : "";
    bool encrypted = archive_entry_is_data_encrypted(entry) > 0;
    // The ratio applies past 1 MiB: small, very compressible text is normal.
    const std::uint64_t ratio_cap = std::max<std::uint64_t>(walk.limits.max_ratio * walk.compressed, 1 << 20);
    std::uint64_t budget = std::min(walk.limits.max_bytes - std::min(walk.limits.max_bytes, walk.expanded),
                                    ratio_cap - std::min(ratio_cap, walk.expanded));
    if (archive_entry_size_is_set(entry) && static_cast<std::uint64_t>(archive_entry_size(entry)) > budget) {
      limits_hit(out, name + " declares " + std::to_string(archive_entry_size(entry)) + " bytes");
      return true;
    }
    std::string data;
    char buffer[64 << 10];
    la_ssize_t n = 0;
    while ((n = archive_read_data(a.get(), buffer, sizeof buffer)) > 0) {
      data.append(buffer, static_cast<std::size_t>(n));
      if (data.size() > budget) {
        walk.expanded += data.size();
        limits_hit(out, "expansion past " + std::to_string(walk.expanded) + " bytes");
        return true;
      }
    }
    walk.expanded += data.size();
    if (encrypted) out.password_protected = true;
    if (n < 0) {
      out.scan_incomplete = true;
      if (encrypted) out.flag(Verdict::suspicious, "archive: encrypted, no password found in the message");
      else out.flag(Verdict::suspicious, "archive: unreadable member " + name);
      continue;
    }
    if (encrypted) out.flag(Verdict::clean, "archive: encrypted, opened with a password from the message");
    visit(name, data, out);
  }
  return any;
}

}  // namespace mailmoat::attachments
