#include "queue/spool_record.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "queue/spool.h"
#include "util/crc32.h"
#include "util/errno_message.h"

namespace mailmoat::queue {

namespace {

constexpr char kMagic[4] = {'M', 'M', 'Q', '1'};

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
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

std::string errno_text(const std::string& what) { return what + ": " + util::errno_message(errno); }

bool write_all(int fd, std::string_view a, std::string_view b, std::string_view c, off_t at) {
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

util::Result<ParsedRecord> parse_record(std::string_view data) {
  if (data.size() < 4 + 4 + 8 + 4 || std::memcmp(data.data(), kMagic, 4) != 0) return util::fail("bad magic or too short");
  std::uint64_t meta_len = get_le(data, 4, 4);
  if (8 + meta_len + 8 + 4 > data.size()) return util::fail("truncated metadata");
  std::uint64_t body_len = get_le(data, 8 + meta_len, 8);
  std::uint64_t body_at = 8 + meta_len + 8;
  if (body_len > data.size() || body_at + body_len + 4 > data.size()) return util::fail("truncated body");
  std::uint32_t stored = static_cast<std::uint32_t>(get_le(data, body_at + body_len, 4));
  if (util::crc32(data.substr(0, body_at + body_len)) != stored) return util::fail("checksum mismatch");
  return ParsedRecord{std::string(data.substr(8, meta_len)), data.substr(body_at, body_len), body_at + body_len + 4};
}

util::Result<ParsedRecord> parse_file(std::string_view data) {
  auto r = parse_record(data);
  if (r && r->length != data.size()) return util::fail("length mismatch");
  return r;
}

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

std::string encode_state(const QueuedMessage& meta) {
  nlohmann::json j{{"held", meta.held}, {"hold_until", meta.hold_until}, {"recipients", recipients_json(meta)}};
  save_hold_state(meta, j);
  return j.dump();
}

void apply_state(std::string_view text, QueuedMessage& meta) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("recipients")) return;
  meta.held = j.value("held", false);
  meta.hold_until = j.value("hold_until", meta.hold_until);
  load_recipients(j["recipients"], meta);
  load_hold_state(j, meta);
}

}  // namespace mailmoat::queue
