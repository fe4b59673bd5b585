#include "store/recorder/spill_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/errno_message.h"

namespace mailmoat::store::recorder {
namespace {

std::unexpected<util::Error> sys_fail(const std::string& what, const std::string& path) {
  return util::fail("trace spill: " + what + " " + path + ": " + util::errno_message(errno));
}

bool pread_all(int fd, char* buf, std::size_t n, std::uint64_t off) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    buf += r;
    n -= static_cast<std::size_t>(r);
    off += static_cast<std::uint64_t>(r);
  }
  return true;
}

}  // namespace

SpillFile::~SpillFile() {
  if (fd_ >= 0) ::close(fd_);
  if (pos_fd_ >= 0) ::close(pos_fd_);
}

util::Result<void> SpillFile::open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return sys_fail("cannot open", path);
  pos_fd_ = ::open((path + ".pos").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (pos_fd_ < 0) return sys_fail("cannot open", path + ".pos");
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return sys_fail("cannot stat", path);
  auto size = static_cast<std::uint64_t>(st.st_size);
  char pos[8];
  if (pread_all(pos_fd_, pos, 8, 0)) {
    std::memcpy(&start_, pos, 8);
    if (start_ > size) start_ = 0;
  }
  // Walk the records to find the valid end and the highest sequence number.
  std::uint64_t off = start_, next = start_;
  end_ = size;
  while (off < size) {
    auto recs = read(off, size, 1024, next);
    if (!recs) return std::unexpected(recs.error());
    if (recs->empty()) break;
    max_seq_ = std::max(max_seq_, recs->back().seq);
    off = next;
  }
  if (off < size && ::ftruncate(fd_, static_cast<off_t>(off)) != 0) return sys_fail("cannot truncate", path);
  end_ = off;
  return {};
}

util::Result<void> SpillFile::append(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(end_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      auto err = sys_fail("cannot write", path_);
      [[maybe_unused]] int rc = ::ftruncate(fd_, static_cast<off_t>(end_));  // no torn record stays behind
      return err;
    }
    done += static_cast<std::size_t>(w);
  }
  end_ += bytes.size();
  return {};
}

util::Result<void> SpillFile::sync() {
  if (::fdatasync(fd_) != 0) return sys_fail("cannot sync", path_);
  return {};
}

util::Result<std::vector<SpilledEvent>> SpillFile::read(std::uint64_t from, std::uint64_t end, std::size_t max,
                                                         std::uint64_t& next) {
  // Reads in chunks of up to 4 MiB and decodes from memory: two syscalls per
  // record made replay slower than the producers it has to catch up with.
  constexpr std::uint64_t kChunk = 4u << 20;
  std::vector<SpilledEvent> out;
  next = from;
  std::string buf;
  while (out.size() < max && next < end) {
    std::uint64_t want = std::min(end - next, kChunk);
    if (want < 8) break;
    buf.resize(want);
    if (!pread_all(fd_, buf.data(), buf.size(), next)) break;
    Decoded first = decode_record(buf);
    if (first.status == Decoded::Status::incomplete && want == kChunk) {
      // One record larger than a chunk: read exactly that record.
      std::uint32_t len = 0;
      for (int i = 0; i < 4; ++i) len |= static_cast<std::uint32_t>(static_cast<unsigned char>(buf[i])) << (8 * i);
      if (len > kMaxRecordSize || end - next - 8 < len) break;
      buf.resize(8 + static_cast<std::size_t>(len));
      if (!pread_all(fd_, buf.data(), buf.size(), next)) break;
    }
    std::size_t off = 0;
    while (out.size() < max && off < buf.size()) {
      Decoded d = decode_record(std::string_view(buf).substr(off));
      if (d.status != Decoded::Status::ok) break;
      out.push_back(SpilledEvent{d.seq, std::move(d.event)});
      off += d.consumed;
    }
    if (off == 0) break;  // torn or corrupt record at `next`
    next += off;
  }
  return out;
}

util::Result<void> SpillFile::truncate() {
  if (::ftruncate(fd_, 0) != 0) return sys_fail("cannot truncate", path_);
  end_ = 0;
  return {};
}

util::Result<void> SpillFile::save_position(std::uint64_t offset) {
  char pos[8];
  std::memcpy(pos, &offset, 8);
  // No fdatasync: the position survives a process crash in the page cache; after
  // a power loss an older position only replays events the store already has.
  if (::pwrite(pos_fd_, pos, 8, 0) != 8) return sys_fail("cannot write", path_ + ".pos");
  return {};
}

}  // namespace mailmoat::store::recorder
