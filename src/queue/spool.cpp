#include "queue/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "util/crc32.h"
#include "util/errno_message.h"
#include "util/group_sync.h"

namespace mailmoat::queue {

namespace {

constexpr char kMagic[4] = {'M', 'M', 'Q', '1'};

std::string errno_text(const std::string& what) { return what + ": " + util::errno_message(errno); }

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

// Writes the three pieces in one system call, resumed after a short write: at
// the file position (at < 0, writev) or at offset `at` (pwritev).
bool write_all(int fd, std::string_view a, std::string_view b, std::string_view c, off_t at = -1) {
  iovec iov[3] = {{const_cast<char*>(a.data()), a.size()},
                  {const_cast<char*>(b.data()), b.size()},
                  {const_cast<char*>(c.data()), c.size()}};
  int idx = 0;
  while (idx < 3) {
    ssize_t n = at < 0 ? ::writev(fd, iov + idx, 3 - idx) : ::pwritev(fd, iov + idx, 3 - idx, at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (at >= 0) at += n;
    auto left = static_cast<std::size_t>(n);
    while (idx < 3 && left >= iov[idx].iov_len) left -= iov[idx++].iov_len;
    if (idx < 3) {
      iov[idx].iov_base = static_cast<char*>(iov[idx].iov_base) + left;
      iov[idx].iov_len -= left;
    }
  }
  return true;
}

util::Result<std::string> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return util::fail(errno_text("cannot open " + path));
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

// Writes `content` to path via a temporary file and rename; fsyncs the file.
util::Result<void> replace_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return util::fail(errno_text("cannot create " + tmp));
  bool ok = write_all(fd, content, {}, {}) && ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    return util::fail(errno_text("cannot write " + path));
  }
  return {};
}

struct ParsedFile {
  std::string meta;
  std::string_view body;
  std::size_t length = 0;  // bytes of the record
};

// Layout: magic(4) meta_len(u32) meta body_len(u64) body crc32(u32 over all before it).
// A record may be followed by more bytes (the next record of a segment).
util::Result<ParsedFile> parse_record(std::string_view data) {
  if (data.size() < 4 + 4 + 8 + 4 || std::memcmp(data.data(), kMagic, 4) != 0) return util::fail("bad magic or too short");
  std::uint64_t meta_len = get_le(data, 4, 4);
  if (8 + meta_len + 8 + 4 > data.size()) return util::fail("truncated metadata");
  std::uint64_t body_len = get_le(data, 8 + meta_len, 8);
  std::uint64_t body_at = 8 + meta_len + 8;
  if (body_len > data.size() || body_at + body_len + 4 > data.size()) return util::fail("truncated body");
  std::uint32_t stored = static_cast<std::uint32_t>(get_le(data, body_at + body_len, 4));
  if (util::crc32(data.substr(0, body_at + body_len)) != stored) return util::fail("checksum mismatch");
  return ParsedFile{std::string(data.substr(8, meta_len)), data.substr(body_at, body_len), body_at + body_len + 4};
}

// A message file holds exactly one record.
util::Result<ParsedFile> parse_file(std::string_view data) {
  auto r = parse_record(data);
  if (r && r->length != data.size()) return util::fail("length mismatch");
  return r;
}

// The framing of one record around the message bytes.
struct Framing {
  std::string head;
  std::string tail;
};

Framing frame(const QueuedMessage& meta, std::string_view message) {
  Framing f;
  std::string json = encode_meta(meta);
  f.head.assign(kMagic, 4);
  put_le(f.head, json.size(), 4);
  f.head += json;
  put_le(f.head, message.size(), 8);
  put_le(f.tail, util::crc32(message, util::crc32(f.head)), 4);
  return f;
}

bool pwrite_all(int fd, std::string_view data, std::uint64_t at) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool pread_all(int fd, std::string& out, std::size_t length, std::uint64_t at) {
  out.resize(length);
  std::size_t got = 0;
  while (got < length) {
    ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(at + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

const char* status_name(RecipientStatus s) {
  switch (s) {
    case RecipientStatus::pending: return "pending";
    case RecipientStatus::delivered: return "delivered";
    case RecipientStatus::failed: return "failed";
  }
  return "pending";
}

RecipientStatus status_from(const std::string& s) {
  if (s == "delivered") return RecipientStatus::delivered;
  if (s == "failed") return RecipientStatus::failed;
  return RecipientStatus::pending;
}

nlohmann::json recipients_json(const QueuedMessage& m) {
  nlohmann::json rs = nlohmann::json::array();
  for (const auto& r : m.recipients)
    rs.push_back({{"address", r.address}, {"notify", r.notify}, {"orcpt", r.orcpt},
                  {"status", status_name(r.status)}, {"attempts", r.attempts}, {"next_attempt", r.next_attempt},
                  {"last_reply", r.last_reply}, {"remote", r.remote}, {"tls_failure", r.tls_failure}});
  return rs;
}

void load_recipients(const nlohmann::json& rs, QueuedMessage& m) {
  m.recipients.clear();
  for (const auto& r : rs) {
    RecipientState st;
    st.address = r.value("address", "");
    st.notify = r.value("notify", "");
    st.orcpt = r.value("orcpt", "");
    st.status = status_from(r.value("status", "pending"));
    st.attempts = r.value("attempts", 0);
    st.next_attempt = r.value("next_attempt", std::int64_t{0});
    st.last_reply = r.value("last_reply", "");
    st.remote = r.value("remote", "");
    st.tls_failure = r.value("tls_failure", false);
    m.recipients.push_back(std::move(st));
  }
}

}  // namespace

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

std::string encode_meta(const QueuedMessage& m) {
  nlohmann::json j{{"id", m.id},
                   {"sender", m.envelope.sender},
                   {"body_type", m.envelope.body_type},
                   {"smtputf8", m.envelope.smtputf8},
                   {"ret", m.envelope.ret},
                   {"envid", m.envelope.envid},
                   {"requiretls", m.envelope.requiretls},
                   {"received_at", m.received_at},
                   {"client_address", m.client_address},
                   {"helo", m.helo},
                   {"listener", m.listener},
                   {"role", m.role},
                   {"message_id", m.message_id},
                   {"subject", m.subject},
                   {"size", m.size},
                   {"is_dsn", m.is_dsn},
                   {"quarantine_reason", m.quarantine_reason},
                   {"quarantine_policy", m.quarantine_policy},
                   {"route", m.route},
                   {"require_tls", m.require_tls},
                   {"hold_until", m.hold_until},
                   {"recipients", recipients_json(m)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

util::Result<QueuedMessage> decode_meta(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return util::fail("metadata is not JSON");
  QueuedMessage m;
  try {
    m.id = j.at("id").get<std::string>();
    m.envelope.sender = j.value("sender", "");
    m.envelope.body_type = j.value("body_type", "");
    m.envelope.smtputf8 = j.value("smtputf8", false);
    m.envelope.ret = j.value("ret", "");
    m.envelope.envid = j.value("envid", "");
    m.envelope.requiretls = j.value("requiretls", false);
    m.received_at = j.value("received_at", std::int64_t{0});
    m.client_address = j.value("client_address", "");
    m.helo = j.value("helo", "");
    m.listener = j.value("listener", "");
    m.role = j.value("role", "");
    m.message_id = j.value("message_id", "");
    m.subject = j.value("subject", "");
    m.size = j.value("size", std::uint64_t{0});
    m.is_dsn = j.value("is_dsn", false);
    m.quarantine_reason = j.value("quarantine_reason", "");
    m.quarantine_policy = j.value("quarantine_policy", "");
    m.route = j.value("route", "");
    m.require_tls = j.value("require_tls", false);
    m.hold_until = j.value("hold_until", std::int64_t{0});
    load_recipients(j.at("recipients"), m);
  } catch (const nlohmann::json::exception& e) {
    return util::fail(std::string("metadata: ") + e.what());
  }
  for (const auto& r : m.recipients)
    m.envelope.recipients.push_back(pipeline::EnvelopeRecipient{r.address, r.notify, r.orcpt});
  return m;
}

namespace {
// Fields that change after the message is spooled: the reason of a hold, and a
// held message turned into a quarantined one (Safe Attachments after analysis).
void save_hold_state(const QueuedMessage& meta, nlohmann::json& j) {
  if (!meta.hold_reason.empty()) j["hold_reason"] = meta.hold_reason;
  if (!meta.quarantine_reason.empty()) {
    j["quarantine_reason"] = meta.quarantine_reason;
    j["quarantine_policy"] = meta.quarantine_policy;
  }
}

void load_hold_state(const nlohmann::json& j, QueuedMessage& meta) {
  if (j.contains("hold_reason") && j["hold_reason"].is_string()) meta.hold_reason = j["hold_reason"].get<std::string>();
  if (j.contains("quarantine_reason") && j["quarantine_reason"].is_string()) {
    meta.quarantine_reason = j["quarantine_reason"].get<std::string>();
    meta.quarantine_policy = j.value("quarantine_policy", "");
  }
}
}  // namespace

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
          if (out < 0 || !pwrite_all(out, rest.substr(0, record->length), 0))
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
  nlohmann::json j{{"held", meta.held}, {"hold_until", meta.hold_until}, {"recipients", recipients_json(meta)}};
  save_hold_state(meta, j);
  return replace_file(dir_ + "/queue/" + meta.id + ".state", j.dump());
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
    util::Result<ParsedFile> parsed = data ? parse_file(*data) : util::Result<ParsedFile>(util::fail(data.error().message));
    util::Result<QueuedMessage> meta = parsed ? decode_meta(parsed->meta) : util::Result<QueuedMessage>(util::fail(parsed.error().message));
    if (!meta) {
      std::string why = name + ": " + meta.error().message;
      if (::rename((dir_ + "/queue/" + name).c_str(), (dir_ + "/corrupt/" + name).c_str()) != 0)
        why += " (left in queue/: cannot move it to corrupt/: " + util::errno_message(errno) + ")";
      report.corrupt.push_back(std::move(why));
      continue;
    }
    if (auto state = read_file(dir_ + "/queue/" + name + ".state")) {
      auto j = nlohmann::json::parse(*state, nullptr, false);
      if (!j.is_discarded() && j.is_object() && j.contains("recipients")) {
        meta->held = j.value("held", false);
        meta->hold_until = j.value("hold_until", meta->hold_until);
        load_recipients(j["recipients"], *meta);
        load_hold_state(j, *meta);
      }
    }
    report.messages.push_back(std::move(*meta));
  }
  return report;
}

}  // namespace mailmoat::queue
