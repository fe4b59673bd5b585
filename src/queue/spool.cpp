#include "queue/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

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

bool write_all(int fd, const std::string& a, std::string_view b, const std::string& c) {
  iovec iov[3] = {{const_cast<char*>(a.data()), a.size()},
                  {const_cast<char*>(b.data()), b.size()},
                  {const_cast<char*>(c.data()), c.size()}};
  int idx = 0;
  while (idx < 3) {
    ssize_t n = ::writev(fd, iov + idx, 3 - idx);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
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
};

// Layout: magic(4) meta_len(u32) meta body_len(u64) body crc32(u32 over all before it).
util::Result<ParsedFile> parse_file(const std::string& data) {
  if (data.size() < 4 + 4 + 8 + 4 || std::memcmp(data.data(), kMagic, 4) != 0) return util::fail("bad magic or too short");
  std::uint64_t meta_len = get_le(data, 4, 4);
  if (8 + meta_len + 8 + 4 > data.size()) return util::fail("truncated metadata");
  std::uint64_t body_len = get_le(data, 8 + meta_len, 8);
  std::uint64_t body_at = 8 + meta_len + 8;
  if (body_at + body_len + 4 != data.size()) return util::fail("length mismatch");
  std::uint32_t stored = static_cast<std::uint32_t>(get_le(data, body_at + body_len, 4));
  if (util::crc32(std::string_view(data).substr(0, body_at + body_len)) != stored) return util::fail("checksum mismatch");
  return ParsedFile{data.substr(8, meta_len), std::string_view(data).substr(body_at, body_len)};
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

Spool::Spool(std::string directory) : dir_(std::move(directory)) {}
Spool::~Spool() = default;

util::Result<void> Spool::open() {
  for (const char* sub : {"", "/tmp", "/queue", "/corrupt"}) {
    std::string d = dir_ + sub;
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) return util::fail(errno_text("cannot create " + d));
  }
  int fd = ::open((dir_ + "/queue").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return util::fail(errno_text("cannot open " + dir_ + "/queue"));
  queue_dir_sync_ = std::make_unique<QueueDirSync>(fd);
  return {};
}

util::Result<void> Spool::store(const QueuedMessage& meta, std::string_view message) {
  if (!queue_dir_sync_) return util::fail("spool: store before open");
  std::string json = encode_meta(meta);
  std::string head(kMagic, 4);
  put_le(head, json.size(), 4);
  head += json;
  put_le(head, message.size(), 8);
  std::uint32_t crc = util::crc32(message, util::crc32(head));
  std::string tail;
  put_le(tail, crc, 4);

  std::string tmp = dir_ + "/tmp/" + meta.id;
  std::string final_path = dir_ + "/queue/" + meta.id;
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

util::Result<std::string> Spool::read_message(const std::string& id) const {
  auto data = read_file(dir_ + "/queue/" + id);
  if (!data) return util::fail(data.error().message);
  auto parsed = parse_file(*data);
  if (!parsed) return util::fail("spool file " + id + ": " + parsed.error().message);
  return std::string(parsed->body);
}

util::Result<void> Spool::save_state(const QueuedMessage& meta) {
  nlohmann::json j{{"held", meta.held}, {"hold_until", meta.hold_until}, {"recipients", recipients_json(meta)}};
  save_hold_state(meta, j);
  return replace_file(dir_ + "/queue/" + meta.id + ".state", j.dump());
}

void Spool::remove(const std::string& id) {
  ::unlink((dir_ + "/queue/" + id + ".state").c_str());
  ::unlink((dir_ + "/queue/" + id).c_str());
}

RecoveryReport Spool::recover() {
  RecoveryReport report;
  auto list = [](const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
      // cppcheck-suppress readdirCalled ; this DIR is this thread's own, which glibc makes safe; readdir_r is deprecated
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
      ::closedir(d);
    }
    return names;
  };
  for (const auto& name : list(dir_ + "/tmp")) {
    ::unlink((dir_ + "/tmp/" + name).c_str());
    ++report.discarded_incomplete;
  }
  for (const auto& name : list(dir_ + "/queue")) {
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
