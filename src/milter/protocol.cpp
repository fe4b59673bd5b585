#include "milter/protocol.h"

namespace mailmoat::milter {

namespace {

std::uint32_t read_u32(std::string_view d, std::size_t at) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(d[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

void put_u32(std::string& out, std::uint32_t v) {
  out += static_cast<char>((v >> 24) & 0xff);
  out += static_cast<char>((v >> 16) & 0xff);
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

// Splits NUL-terminated strings; the data must end with a NUL.
bool split_strings(std::string_view data, std::vector<std::string>& out) {
  if (data.empty() || data.back() != '\0') return false;
  std::size_t pos = 0;
  while (pos < data.size()) {
    std::size_t nul = data.find('\0', pos);
    out.emplace_back(data.substr(pos, nul - pos));
    pos = nul + 1;
  }
  return true;
}

std::string with_nul(std::string_view s) {
  std::string out(s);
  out += '\0';
  return out;
}

}  // namespace

void PacketReader::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 65536) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<Packet> PacketReader::next() {
  if (!error_.empty()) return std::nullopt;
  std::string_view avail = std::string_view(buf_).substr(pos_);
  if (avail.size() < 4) return std::nullopt;
  std::uint32_t len = read_u32(avail, 0);
  if (len == 0) {
    error_ = "packet of length 0 (no command byte)";
    return std::nullopt;
  }
  if (len > max_) {
    error_ = "packet of " + std::to_string(len) + " bytes is over the limit of " + std::to_string(max_);
    return std::nullopt;
  }
  if (avail.size() < 4 + static_cast<std::size_t>(len)) return std::nullopt;
  Packet p;
  p.command = avail[4];
  p.data.assign(avail.substr(5, len - 1));
  pos_ += 4 + len;
  return p;
}

std::optional<OptionNegotiation> parse_optneg(std::string_view data, std::string& why) {
  if (data.size() < 12) {
    why = "option negotiation shorter than 12 bytes";
    return std::nullopt;
  }
  return OptionNegotiation{read_u32(data, 0), read_u32(data, 4), read_u32(data, 8)};
}

std::optional<std::pair<char, std::vector<std::pair<std::string, std::string>>>> parse_macros(std::string_view data,
                                                                                             std::string& why) {
  if (data.empty()) {
    why = "macro packet without a command code";
    return std::nullopt;
  }
  std::pair<char, std::vector<std::pair<std::string, std::string>>> out{data[0], {}};
  if (data.size() == 1) return out;  // no macros for this stage
  std::vector<std::string> parts;
  if (!split_strings(data.substr(1), parts) || parts.size() % 2 != 0) {
    why = "macro packet is not NUL-terminated name/value pairs";
    return std::nullopt;
  }
  for (std::size_t i = 0; i < parts.size(); i += 2) out.second.emplace_back(parts[i], parts[i + 1]);
  return out;
}

std::optional<ConnectInfo> parse_connect(std::string_view data, std::string& why) {
  std::size_t nul = data.find('\0');
  if (nul == std::string_view::npos || nul + 1 >= data.size()) {
    why = "connect packet without host name and family";
    return std::nullopt;
  }
  ConnectInfo c;
  c.hostname.assign(data.substr(0, nul));
  c.family = data[nul + 1];
  std::string_view rest = data.substr(nul + 2);
  if (c.family == 'U') return c;
  if (c.family != '4' && c.family != '6' && c.family != 'L') {
    why = "connect packet with unknown address family";
    return std::nullopt;
  }
  if (rest.size() < 3 || rest.back() != '\0' || rest.find('\0', 2) != rest.size() - 1) {
    why = "connect packet without port and NUL-terminated address";
    return std::nullopt;
  }
  c.port = static_cast<std::uint16_t>((static_cast<unsigned char>(rest[0]) << 8) | static_cast<unsigned char>(rest[1]));
  c.address.assign(rest.substr(2, rest.size() - 3));
  // Sendmail writes IPv6 client addresses as "IPv6:addr".
  if (c.family == '6' && c.address.rfind("IPv6:", 0) == 0) c.address.erase(0, 5);
  return c;
}

std::optional<HeaderInfo> parse_header(std::string_view data, std::string& why) {
  std::vector<std::string> parts;
  if (!split_strings(data, parts) || parts.size() != 2 || parts[0].empty()) {
    why = "header packet is not a name and a value, each NUL-terminated";
    return std::nullopt;
  }
  return HeaderInfo{std::move(parts[0]), std::move(parts[1])};
}

std::optional<std::vector<std::string>> parse_strings(std::string_view data, std::string& why) {
  std::vector<std::string> parts;
  if (!split_strings(data, parts)) {
    why = "arguments are not NUL-terminated strings";
    return std::nullopt;
  }
  return parts;
}

std::string encode(char reply_command, std::string_view data) {
  std::string out;
  out.reserve(5 + data.size());
  put_u32(out, static_cast<std::uint32_t>(data.size() + 1));
  out += reply_command;
  out.append(data);
  return out;
}

std::string encode_optneg(const OptionNegotiation& o, const std::vector<std::pair<MacroStage, std::string>>& symlists) {
  std::string data;
  put_u32(data, o.version);
  put_u32(data, o.actions);
  put_u32(data, o.protocol);
  for (const auto& [stage, list] : symlists) {
    put_u32(data, static_cast<std::uint32_t>(stage));
    data += with_nul(list);
  }
  return encode(reply::optneg, data);
}

std::string encode_replycode(int code, std::string_view enhanced, std::string_view text) {
  std::string line = std::to_string(code);
  if (!enhanced.empty()) line += " " + std::string(enhanced);
  line += " ";
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') continue;  // one line; no smuggled reply lines
    line += c;
    if (c == '%') line += '%';
  }
  return encode(reply::replycode, with_nul(line));
}

std::string encode_quarantine(std::string_view reason) { return encode(reply::quarantine, with_nul(reason)); }

std::string encode_add_header(std::string_view name, std::string_view value) {
  return encode(reply::add_header, with_nul(name) + with_nul(value));
}

std::string encode_insert_header(std::uint32_t index, std::string_view name, std::string_view value) {
  std::string data;
  put_u32(data, index);
  return encode(reply::ins_header, data + with_nul(name) + with_nul(value));
}

std::string encode_change_header(std::uint32_t index, std::string_view name, std::string_view value) {
  std::string data;
  put_u32(data, index);
  return encode(reply::chg_header, data + with_nul(name) + with_nul(value));
}

std::vector<std::string> encode_replace_body(std::string_view body) {
  constexpr std::size_t kChunk = 65535;
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < body.size(); pos += kChunk) out.push_back(encode(reply::repl_body, body.substr(pos, kChunk)));
  if (out.empty()) out.push_back(encode(reply::repl_body, {}));  // an empty body replaces too
  return out;
}

std::string encode_add_rcpt(std::string_view address) { return encode(reply::add_rcpt, with_nul("<" + std::string(address) + ">")); }

std::string encode_del_rcpt(std::string_view address) { return encode(reply::del_rcpt, with_nul("<" + std::string(address) + ">")); }

std::string encode_change_from(std::string_view address, std::string_view esmtp_args) {
  std::string data = with_nul("<" + std::string(address) + ">");
  if (!esmtp_args.empty()) data += with_nul(esmtp_args);
  return encode(reply::chg_from, data);
}

std::string command_name(char c) {
  switch (c) {
    case command::abort: return "abort";
    case command::body: return "body";
    case command::connect: return "connect";
    case command::macro: return "macro";
    case command::body_eob: return "end-of-message";
    case command::helo: return "helo";
    case command::quit_nc: return "quit-new-connection";
    case command::header: return "header";
    case command::mail: return "mail";
    case command::eoh: return "end-of-headers";
    case command::optneg: return "option-negotiation";
    case command::quit: return "quit";
    case command::rcpt: return "rcpt";
    case command::data: return "data";
    case command::unknown: return "unknown";
    default: break;
  }
  static const char* hex = "0123456789abcdef";
  const auto u = static_cast<unsigned char>(c);
  return std::string("0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace mailmoat::milter
