#include "attachments/sandbox/ipc.h"

namespace mailmoat::attachments::ipc {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}
void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}
std::uint32_t get_u32(std::string_view s) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}
std::uint64_t get_u64(std::string_view s) { return (std::uint64_t{get_u32(s)} << 32) | get_u32(s.substr(4)); }

void field(std::string& out, std::uint8_t tag, std::string_view value) {
  out.push_back(static_cast<char>(tag));
  put_u32(out, static_cast<std::uint32_t>(value.size()));
  out.append(value);
}

// Walks the fields of a payload; false on a field that runs past the end.
template <typename F>
bool each_field(std::string_view payload, F&& f) {
  std::size_t at = 1;
  while (at < payload.size()) {
    if (payload.size() - at < 5) return false;
    auto tag = static_cast<std::uint8_t>(payload[at]);
    std::uint32_t len = get_u32(payload.substr(at + 1));
    at += 5;
    if (len > payload.size() - at) return false;
    if (!f(tag, payload.substr(at, len))) return false;
    at += len;
  }
  return true;
}

}  // namespace

std::string frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 4);
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

util::Result<std::optional<Framed>> unframe(std::string_view buffer) {
  if (buffer.size() < 4) return std::optional<Framed>();
  std::uint32_t len = get_u32(buffer);
  if (len > kMaxFrame) return util::fail("frame of " + std::to_string(len) + " bytes exceeds the limit");
  if (buffer.size() - 4 < len) return std::optional<Framed>();
  return std::optional<Framed>(Framed{std::string(buffer.substr(4, len)), 4 + std::size_t{len}});
}

namespace {

std::string encode_request_with(const AnalysisRequest& r, bool attached) {
  std::string out = "Q";
  field(out, 1, r.name);
  if (attached) {
    std::string length;
    put_u64(length, r.content.size());
    field(out, 6, length);
  } else {
    field(out, 2, r.content);
  }
  for (const auto& p : r.passwords) field(out, 3, p);
  std::string limits;
  put_u64(limits, r.limits.max_depth);
  put_u64(limits, r.limits.max_files);
  put_u64(limits, r.limits.max_bytes);
  put_u64(limits, r.limits.max_ratio);
  field(out, 4, limits);
  field(out, 5, r.check_name ? "1" : "0");
  return out;
}

}  // namespace

std::string encode_request(const AnalysisRequest& r) { return encode_request_with(r, false); }
std::string encode_request_attached(const AnalysisRequest& r) { return encode_request_with(r, true); }

util::Result<AnalysisRequest> decode_request(std::string_view payload, std::optional<std::string_view> attached) {
  if (payload.empty() || payload[0] != 'Q') return util::fail("not a request");
  AnalysisRequest r;
  bool ok = each_field(payload, [&](std::uint8_t tag, std::string_view v) {
    switch (tag) {
      case 1: r.name = v; return true;
      case 2: r.content = v; return true;
      case 6: {
        if (v.size() != 8 || !attached) return false;
        const std::uint64_t length = get_u64(v);
        if (length > attached->size()) return false;
        r.content = attached->substr(0, static_cast<std::size_t>(length));
        return true;
      }
      case 3: r.passwords.emplace_back(v); return r.passwords.size() <= 100;
      case 4:
        if (v.size() != 32) return false;
        r.limits.max_depth = static_cast<std::size_t>(get_u64(v));
        r.limits.max_files = static_cast<std::size_t>(get_u64(v.substr(8)));
        r.limits.max_bytes = get_u64(v.substr(16));
        r.limits.max_ratio = get_u64(v.substr(24));
        return true;
      case 5: r.check_name = v == "1"; return v.size() == 1;
      default: return false;
    }
  });
  if (!ok) return util::fail("malformed request field");
  return r;
}

std::string encode_response(const Analysis& a) {
  std::string out = "R";
  field(out, 1, to_string(a.verdict));
  for (const auto& r : a.reasons) field(out, 2, r);
  for (const auto& n : a.analyzers) field(out, 3, n);
  char flags = static_cast<char>((a.password_protected ? 1 : 0) | (a.scan_incomplete ? 2 : 0));
  field(out, 4, std::string_view(&flags, 1));
  field(out, 5, a.primary);
  if (!a.text.empty()) field(out, 6, a.text);
  return out;
}

util::Result<Analysis> decode_response(std::string_view payload) {
  if (payload.empty() || payload[0] != 'R') return util::fail("not a response");
  Analysis a;
  bool verdict = false;
  bool ok = each_field(payload, [&](std::uint8_t tag, std::string_view v) {
    switch (tag) {
      case 1:
        a.verdict = verdict_from_string(v);
        verdict = v == to_string(a.verdict);
        return verdict;
      case 2: a.reasons.emplace_back(v.substr(0, 1024)); return a.reasons.size() <= 1000;
      case 3: a.analyzers.emplace_back(v.substr(0, 64)); return a.analyzers.size() <= 64;
      case 4:
        if (v.size() != 1) return false;
        a.password_protected = v[0] & 1;
        a.scan_incomplete = v[0] & 2;
        return true;
      case 5: a.primary = v.substr(0, 1024); return true;
      case 6: a.text = v.substr(0, Analysis::kMaxText); return true;
      default: return false;
    }
  });
  if (!ok || !verdict) return util::fail("malformed response");
  return a;
}

}  // namespace mailmoat::attachments::ipc
