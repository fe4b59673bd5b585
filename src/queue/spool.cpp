#include "queue/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "queue/spool_record.h"
#include "util/errno_message.h"
#include "util/group_sync.h"

namespace mailmoat::queue {

QueueIdGenerator::QueueIdGenerator(std::string_view node_id) : node_(sanitize_node_id(node_id)) {}

std::string QueueIdGenerator::next(std::int64_t unix_micros) {
  std::lock_guard lock(mu_);
  if (unix_micros <= last_micros_) {
    ++counter_;
  } else {
    last_micros_ = unix_micros;
    counter_ = 0;
  }
  char buf[64];
  (void)std::snprintf(buf, sizeof buf, "%013llX%04X", static_cast<unsigned long long>(last_micros_), counter_ & 0xFFFF);
  if (counter_ >= 0xFFFF) ++last_micros_;  // never reuse an id within one microsecond
  return std::string(buf) + "-" + node_;
}

std::string sanitize_node_id(std::string_view raw) {
  std::string out;
  for (char c : raw) {
    if (c == '.') break;
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (out.size() == 16) break;
  }
  return out.empty() ? "node" : out;
}

// queue/ stays open for the fsyncs that make renames into it durable.
struct Spool::QueueDirSync {
  explicit QueueDirSync(int dir_fd) : fd(dir_fd), group([this] { return ::fsync(fd) == 0 ? 0 : errno; }) {}
  ~QueueDirSync() { ::close(fd); }
  QueueDirSync(const QueueDirSync&) = delete;
  QueueDirSync& operator=(const QueueDirSync&) = delete;
  int fd;
  util::GroupSync group;
};

namespace {

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    // cppcheck-suppress readdirCalled ; this DIR is this thread's own, which glibc makes safe; readdir_r is deprecated
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

// One segment file. Records are appended under Spool::Segments::mu and made
// durable by a shared fdatasync. After a failed fdatasync the state of the
// file is unknown (the kernel may have dropped its dirty pages), so every later
// sync of it fails too and it takes no more appends.
struct Segment {
  Segment(std::string file, int data_fd)
      : path(std::move(file)), fd(data_fd), group([this] {
          if (int earlier = failed.load()) return earlier;
          if (::fdatasync(fd) == 0) return 0;
          failed.store(errno);
          return failed.load();
        }) {}
  ~Segment() {
    ::close(fd);
    if (done_fd >= 0) ::close(done_fd);
  }
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  std::string path;
  int fd;
  int done_fd = -1;        // <path>.done, opened at the first mark
  std::uint64_t size = 0;  // bytes appended; under Segments::mu
  std::size_t live = 0;    // records not yet marked done; under Segments::mu
  std::atomic<int> failed{0};
  util::GroupSync group;
};

}  // namespace

struct Spool::Segments {
  struct Location {
    std::shared_ptr<Segment> segment;
    std::uint64_t offset = 0;
    std::size_t length = 0;
  };

  Segments(std::string directory, int directory_fd) : dir(std::move(directory)), dir_fd(directory_fd) {}
  ~Segments() { ::close(dir_fd); }
  Segments(const Segments&) = delete;
  Segments& operator=(const Segments&) = delete;

  const std::string dir;  // <spool>/segments
  const int dir_fd;
  mutable std::mutex mu;
  std::shared_ptr<Segment> current;  // takes appends; null until the first
  std::unordered_map<std::string, Location> index;  // messages not yet done
  std::uint64_t serial = 0;

  // Caller holds mu. The new file's name is durable before it takes a record.
  util::Result<std::shared_ptr<Segment>> create() {
    for (int attempt = 0; attempt < 8; ++attempt) {
      char name[48];
      (void)std::snprintf(name, sizeof name, "%016llx-%llu",
                          static_cast<unsigned long long>(
                              std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()),
                          static_cast<unsigned long long>(++serial));
      std::string path = dir + "/" + name;
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) return util::fail(errno_text("spool: cannot create segment " + path));
      if (::fsync(dir_fd) != 0) {
        int saved = errno;
        ::close(fd);
        ::unlink(path.c_str());
        errno = saved;
        return util::fail(errno_text("spool: cannot fsync segments/"));
      }
      return std::make_shared<Segment>(std::move(path), fd);
    }
    return util::fail("spool: cannot find a free segment name in " + dir);
  }

  // Caller holds mu.
  static void discard(const Segment& seg) {
    ::unlink(seg.path.c_str());
    ::unlink((seg.path + ".done").c_str());
  }

  // Caller holds mu. A segment that takes no more appends and has nothing left
  // to deliver goes.
  void retire_current() {
    if (current && current->live == 0) discard(*current);
    current.reset();
  }

  // Caller holds mu. Marks one record done. The mark is not synced: losing it
  // in a power cut means a second delivery after restart (at least once).
  void mark_done(const std::shared_ptr<Segment>& seg, const std::string& id) {
    if (seg->done_fd < 0)
      seg->done_fd = ::open((seg->path + ".done").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (seg->done_fd >= 0) {
      std::string line = id + "\n";
      (void)!::write(seg->done_fd, line.data(), line.size());
    }
    if (seg->live > 0) --seg->live;
    if (seg->live == 0 && seg != current) discard(*seg);
  }

  util::Result<void> append(const std::string& id, const Framing& f, std::string_view message,
                            std::uint64_t segment_bytes) {
    const std::size_t length = f.head.size() + message.size() + f.tail.size();
    std::shared_ptr<Segment> seg;
    {
      std::lock_guard lock(mu);
      if (!current || current->size >= segment_bytes) {
        auto made = create();
        if (!made) return util::fail(made.error().message);
        retire_current();
        current = std::move(*made);
      }
      seg = current;
      // Appends in file order, so a sync that covers this record covers every record before it.
      const std::uint64_t at = seg->size;
      if (!write_all(seg->fd, f.head, message, f.tail, static_cast<off_t>(at))) {
        int saved = errno;
        retire_current();  // it may end in a torn record now
        errno = saved;
        return util::fail(errno_text("spool: cannot append to segment " + seg->path));
      }
      seg->size += length;
      ++seg->live;
      index.insert_or_assign(id, Location{seg, at, length});
    }
    if (int error = seg->group.sync(); error != 0) {
      std::lock_guard lock(mu);
      if (seg == current) retire_current();
      index.erase(id);
      mark_done(seg, id);  // never acknowledged: recovery must not deliver it
      errno = error;
      return util::fail(errno_text("spool: cannot fdatasync segment " + seg->path));
    }
    return {};
  }

  std::optional<Location> find(const std::string& id) const {
    std::lock_guard lock(mu);
    auto it = index.find(id);
    if (it == index.end()) return std::nullopt;
    return it->second;
  }

  // Marks a message done; false when it is not in a segment.
  bool forget(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = index.find(id);
    if (it == index.end()) return false;
    auto seg = it->second.segment;
    index.erase(it);
    mark_done(seg, id);
    return true;
  }

  static util::Result<std::string> read_record(const Location& at) {
    std::string record;
    if (!pread_all(at.segment->fd, record, at.length, at.offset))
      return util::fail(errno_text("spool: cannot read segment " + at.segment->path));
    return record;
  }

  // Loads what an earlier run left in segments/: every complete record not
  // marked done and not already moved to its own file in queue/.
  void recover(const std::string& spool_dir, RecoveryReport& report) {
    std::unordered_map<std::string, Location> found;  // published under mu at the end
    for (const auto& name : list_dir(dir)) {
      if (name.ends_with(".done")) {
        if (::access((dir + "/" + name.substr(0, name.size() - 5)).c_str(), F_OK) != 0)
          ::unlink((dir + "/" + name).c_str());  // its segment is gone
        continue;
      }
      const std::string path = dir + "/" + name;
      auto data = read_file(path);
      int fd = data ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC) : -1;
      if (fd < 0) {
        report.corrupt.push_back("segments/" + name + ": " + (data ? errno_text("cannot open") : data.error().message) +
                                 " (left in segments/)");
        continue;
      }
      auto seg = std::make_shared<Segment>(path, fd);
      seg->size = data->size();
      std::unordered_set<std::string> done;
      if (auto marks = read_file(path + ".done")) {
        std::string_view rest(*marks);
        for (auto nl = rest.find('\n'); nl != std::string_view::npos; nl = rest.find('\n')) {
          done.emplace(rest.substr(0, nl));
          rest.remove_prefix(nl + 1);
        }
      }
      std::string_view rest(*data);
      std::uint64_t offset = 0;
      while (!rest.empty()) {
        auto record = parse_record(rest);
        if (!record) {
          ++report.discarded_incomplete;  // the torn tail: written, never acknowledged
          break;
        }
        auto meta = decode_meta(record->meta);
        if (!meta) {
          std::string keep = spool_dir + "/corrupt/" + name + "." + std::to_string(offset);
          std::string why = "segments/" + name + " at " + std::to_string(offset) + ": " + meta.error().message;
          int out = ::open(keep.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
          if (out < 0 || !write_all(out, rest.substr(0, record->length), {}, {}, 0))
            why += " (cannot copy it to corrupt/: " + util::errno_message(errno) + ")";
          if (out >= 0) ::close(out);
          report.corrupt.push_back(std::move(why));
        } else if (!done.count(meta->id) && !found.count(meta->id) &&
                   ::access((spool_dir + "/queue/" + meta->id).c_str(), F_OK) != 0) {
          found.insert_or_assign(meta->id, Location{seg, offset, record->length});
          ++seg->live;
          report.messages.push_back(std::move(*meta));
        }
        offset += record->length;
        rest.remove_prefix(record->length);
      }
      if (seg->live == 0) discard(*seg);
    }
    std::lock_guard lock(mu);
    index.merge(found);
  }
};

Spool::Spool(std::string directory, SpoolOptions options) : dir_(std::move(directory)), options_(options) {}
Spool::~Spool() = default;

util::Result<void> Spool::open() {
  for (const char* sub : {"", "/tmp", "/queue", "/segments", "/corrupt"}) {
    std::string d = dir_ + sub;
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return util::fail(errno_text("cannot create " + d));
  }
  int fd = ::open((dir_ + "/queue").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::fail(errno_text("cannot open " + dir_ + "/queue"));
  queue_dir_sync_ = std::make_unique<QueueDirSync>(fd);
  // Recovery reads segments/ even when new messages do not go there.
  int seg_fd = ::open((dir_ + "/segments").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (seg_fd < 0) return util::fail(errno_text("cannot open " + dir_ + "/segments"));
  segments_ = std::make_unique<Segments>(dir_ + "/segments", seg_fd);
  return {};
}

util::Result<void> Spool::store(const QueuedMessage& meta, std::string_view message) {
  if (!queue_dir_sync_) return util::fail("spool: store before open");
  Framing f = frame(meta, message);
  // A held or delayed message may wait for days: it would keep a whole segment alive.
  if (options_.segment_bytes > 0 && message.size() <= options_.segment_max_message && !meta.held &&
      meta.hold_until == 0) {
    auto appended = segments_->append(meta.id, f, message, options_.segment_bytes);
    if (appended) return {};
    // A segment that cannot grow (a file size limit, a failed sync) is no reason to refuse
    // the message while its own file can still be written.
    auto own = store_file(meta.id, f.head, message, f.tail);
    if (!own) return util::fail(appended.error().message + "; " + own.error().message);
    return {};
  }
  return store_file(meta.id, f.head, message, f.tail);
}

util::Result<void> Spool::store_file(const std::string& id, const std::string& head, std::string_view message,
                                     const std::string& tail) {
  std::string tmp = dir_ + "/tmp/" + id;
  std::string final_path = dir_ + "/queue/" + id;
  int fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail(errno_text("spool: cannot create " + tmp));
  bool ok = write_all(fd, head, message, tail) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmp.c_str());
    errno = saved;
    return util::fail(errno_text("spool: cannot write " + tmp));
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return util::fail(errno_text("spool: cannot rename into queue/"));
  }
  if (int error = queue_dir_sync_->group.sync(); error != 0) {
    errno = error;
    return util::fail(errno_text("spool: cannot fsync queue/"));
  }
  return {};
}

namespace {
// The message bytes of a record, reusing its buffer.
util::Result<std::string> body_of(std::string record, const std::string& where, bool whole_file) {
  auto parsed = whole_file ? parse_file(record) : parse_record(record);
  if (!parsed) return util::fail(where + ": " + parsed.error().message);
  const std::size_t at = static_cast<std::size_t>(parsed->body.data() - record.data());
  const std::size_t length = parsed->body.size();
  record.erase(0, at);
  record.resize(length);
  return record;
}
}  // namespace

util::Result<std::string> Spool::read_message(const std::string& id) const {
  if (segments_)
    if (auto at = segments_->find(id)) {
      auto record = Segments::read_record(*at);
      if (!record) return util::fail(record.error().message);
      return body_of(std::move(*record), "spool segment record " + id, false);
    }
  auto data = read_file(dir_ + "/queue/" + id);
  if (!data) return util::fail(data.error().message);
  return body_of(std::move(*data), "spool file " + id, true);
}

util::Result<void> Spool::save_state(const QueuedMessage& meta) {
  // Delivery state lives beside a message's own file: a message in a segment moves there first.
  if (segments_)
    if (auto at = segments_->find(meta.id)) {
      auto record = Segments::read_record(*at);
      if (!record) return util::fail(record.error().message);
      if (auto parsed = parse_record(*record); !parsed || parsed->length != record->size())
        return util::fail("spool segment record " + meta.id + ": " +
                          (parsed ? std::string("length mismatch") : parsed.error().message));
      if (auto moved = store_file(meta.id, *record, {}, {}); !moved) return moved;
      segments_->forget(meta.id);
    }
  return replace_file(dir_ + "/queue/" + meta.id + ".state", encode_state(meta));
}

bool Spool::remove_if_in_segment(const std::string& id) { return segments_ && segments_->forget(id); }

void Spool::remove(const std::string& id) {
  if (segments_ && segments_->forget(id)) return;
  ::unlink((dir_ + "/queue/" + id + ".state").c_str());
  ::unlink((dir_ + "/queue/" + id).c_str());
}

std::size_t Spool::segment_count() const {
  std::size_t n = 0;
  for (const auto& name : list_dir(dir_ + "/segments")) n += name.ends_with(".done") ? 0 : 1;
  return n;
}

RecoveryReport Spool::recover() {
  RecoveryReport report;
  for (const auto& name : list_dir(dir_ + "/tmp")) {
    ::unlink((dir_ + "/tmp/" + name).c_str());
    ++report.discarded_incomplete;
  }
  if (segments_) segments_->recover(dir_, report);
  for (const auto& name : list_dir(dir_ + "/queue")) {
    if (name.ends_with(".tmp")) {
      ::unlink((dir_ + "/queue/" + name).c_str());
      continue;
    }
    if (name.ends_with(".state")) continue;
    auto data = read_file(dir_ + "/queue/" + name);
    util::Result<ParsedRecord> parsed = data ? parse_file(*data) : util::Result<ParsedRecord>(util::fail(data.error().message));
    util::Result<QueuedMessage> meta = parsed ? decode_meta(parsed->meta) : util::Result<QueuedMessage>(util::fail(parsed.error().message));
    if (!meta) {
      std::string why = name + ": " + meta.error().message;
      if (::rename((dir_ + "/queue/" + name).c_str(), (dir_ + "/corrupt/" + name).c_str()) != 0)
        why += " (left in queue/: cannot move it to corrupt/: " + util::errno_message(errno) + ")";
      report.corrupt.push_back(std::move(why));
      continue;
    }
    if (auto state = read_file(dir_ + "/queue/" + name + ".state")) apply_state(*state, *meta);
    report.messages.push_back(std::move(*meta));
  }
  return report;
}

}  // namespace mailmoat::queue
