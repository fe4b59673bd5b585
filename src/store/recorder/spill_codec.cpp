#include "store/recorder/spill_codec.h"

#include <array>

#include "util/crc32.h"

namespace mailmoat::store::recorder {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

// Bounds-checked reader over one payload; any short read poisons it.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == d_.size(); }
  std::uint64_t u(int bytes) {
    if (!ok_ || d_.size() - pos_ < static_cast<std::size_t>(bytes)) return fail();
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(d_[pos_ + i])) << (8 * i);
    pos_ += bytes;
    return v;
  }
  std::string str() {
    std::uint64_t n = u(4);
    if (!ok_ || d_.size() - pos_ < n) return fail(), std::string();
    std::string s(d_.substr(pos_, n));
    pos_ += n;
    return s;
  }

 private:
  std::uint64_t fail() {
    ok_ = false;
    return 0;
  }
  std::string_view d_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

std::uint32_t get_u32(std::string_view s) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  return v;
}

template <typename E>
bool enum_from(std::uint64_t raw, std::size_t count, E& out) {
  if (raw >= count) return false;
  out = static_cast<E>(raw);
  return true;
}

bool decode_payload(std::string_view payload, Decoded& d) {
  Reader r(payload);
  d.seq = r.u(8);
  TraceEvent& e = d.event;
  e.trace_id = r.str();
  e.at = static_cast<Micros>(r.u(8));
  bool good = enum_from(r.u(1), 12, e.type);
  e.recipient = r.str();
  std::uint64_t has_status = r.u(1);
  good = good && has_status <= 1;
  if (has_status) {
    TraceStatus s{};
    good = good && enum_from(r.u(1), 11, s);
    e.status = s;
  }
  e.detail = r.str();
  std::uint64_t has_message = r.u(1);
  good = good && has_message <= 1;
  if (has_message) {
    MessageInfo m;
    m.sender = r.str();
    std::uint64_t n = r.u(4);
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) m.recipients.push_back(r.str());
    m.subject = r.str();
    m.message_id = r.str();
    m.client_ip = r.str();
    good = good && enum_from(r.u(1), 3, m.direction);
    m.size = static_cast<std::int64_t>(r.u(8));
    e.message = std::move(m);
  }
  return good && r.ok() && r.at_end();
}

}  // namespace

std::uint32_t crc32(std::string_view data) { return util::crc32(data); }

void encode_record(std::string& out, std::uint64_t seq, const TraceEvent& e) {
  std::string p;
  put_u64(p, seq);
  put_str(p, e.trace_id);
  put_u64(p, static_cast<std::uint64_t>(e.at));
  p += static_cast<char>(e.type);
  put_str(p, e.recipient);
  p += static_cast<char>(e.status ? 1 : 0);
  if (e.status) p += static_cast<char>(*e.status);
  put_str(p, e.detail);
  p += static_cast<char>(e.message ? 1 : 0);
  if (e.message) {
    const MessageInfo& m = *e.message;
    put_str(p, m.sender);
    put_u32(p, static_cast<std::uint32_t>(m.recipients.size()));
    for (const auto& r : m.recipients) put_str(p, r);
    put_str(p, m.subject);
    put_str(p, m.message_id);
    put_str(p, m.client_ip);
    p += static_cast<char>(m.direction);
    put_u64(p, static_cast<std::uint64_t>(m.size));
  }
  put_u32(out, static_cast<std::uint32_t>(p.size()));
  put_u32(out, crc32(p));
  out += p;
}

Decoded decode_record(std::string_view input) {
  Decoded d;
  if (input.size() < 8) return d;
  std::uint32_t len = get_u32(input), crc = get_u32(input.substr(4));
  if (len > kMaxRecordSize) {
    d.status = Decoded::Status::corrupt;
    d.reason = "record length " + std::to_string(len) + " is too large";
    return d;
  }
  if (input.size() - 8 < len) return d;
  std::string_view payload = input.substr(8, len);
  if (crc32(payload) != crc) {
    d.status = Decoded::Status::corrupt;
    d.reason = "CRC mismatch";
    return d;
  }
  if (!decode_payload(payload, d)) {
    d = Decoded{};
    d.status = Decoded::Status::corrupt;
    d.reason = "malformed event";
    return d;
  }
  d.status = Decoded::Status::ok;
  d.consumed = 8 + static_cast<std::size_t>(len);
  return d;
}

}  // namespace mailmoat::store::recorder
