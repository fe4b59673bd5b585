// The Sendmail milter protocol, version 6, as Postfix and Sendmail speak it:
// packet framing (4-byte network-order length, 1 command byte, data), the
// decoders of every MTA command and the encoders of every filter reply. Pure
// and allocation-bounded: a length past `max_packet` is an error, never a
// large allocation. No std::expected here, so clang's libFuzzer builds it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailmoat::milter {

inline constexpr std::uint32_t kVersion = 6;

// Commands from the MTA (libmilter's SMFIC_*).
namespace command {
inline constexpr char abort = 'A', body = 'B', connect = 'C', macro = 'D', body_eob = 'E', helo = 'H',
                      quit_nc = 'K', header = 'L', mail = 'M', eoh = 'N', optneg = 'O', quit = 'Q', rcpt = 'R',
                      data = 'T', unknown = 'U';
}

// Replies and modification requests from the filter (SMFIR_*).
namespace reply {
inline constexpr char add_rcpt = '+', del_rcpt = '-', add_rcpt_par = '2', shutdown = '4', accept = 'a',
                      repl_body = 'b', cont = 'c', discard = 'd', chg_from = 'e', conn_fail = 'f',
                      add_header = 'h', ins_header = 'i', setsymlist = 'l', chg_header = 'm', progress = 'p',
                      quarantine = 'q', reject = 'r', skip = 's', tempfail = 't', replycode = 'y',
                      optneg = 'O';
}

// Actions the filter may take (SMFIF_*), agreed at option negotiation.
namespace action {
inline constexpr std::uint32_t add_headers = 0x01, change_body = 0x02, add_rcpt = 0x04, del_rcpt = 0x08,
                               change_headers = 0x10, quarantine = 0x20, change_from = 0x40,
                               add_rcpt_par = 0x80, setsymlist = 0x100;
}

// Protocol steps the MTA may skip or not wait a reply for (SMFIP_*).
namespace step {
inline constexpr std::uint32_t no_connect = 0x1, no_helo = 0x2, no_mail = 0x4, no_rcpt = 0x8, no_body = 0x10,
                               no_headers = 0x20, no_eoh = 0x40, nr_header = 0x80, no_unknown = 0x100,
                               no_data = 0x200, skip = 0x400, rcpt_rej = 0x800, nr_connect = 0x1000,
                               nr_helo = 0x2000, nr_mail = 0x4000, nr_rcpt = 0x8000, nr_data = 0x10000,
                               nr_unknown = 0x20000, nr_eoh = 0x40000, nr_body = 0x80000,
                               header_leading_space = 0x100000;
}

// Macro stages for SETSYMLIST (SMFIM_*).
enum class MacroStage : std::uint32_t { connect = 0, helo = 1, envfrom = 2, envrcpt = 3, data = 4, eom = 5, eoh = 6 };

struct Packet {
  char command = 0;
  std::string data;
};

// Splits a byte stream into packets. feed() appends bytes; next() returns a
// complete packet, nothing when more bytes are needed, or sets error().
class PacketReader {
 public:
  explicit PacketReader(std::size_t max_packet = std::size_t{2} * 1024 * 1024) : max_(max_packet) {}
  void feed(std::string_view bytes);
  std::optional<Packet> next();
  const std::string& error() const { return error_; }
  std::size_t buffered() const { return buf_.size() - pos_; }

 private:
  std::size_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
  std::string error_;
};

struct OptionNegotiation {
  std::uint32_t version = 0;
  std::uint32_t actions = 0;
  std::uint32_t protocol = 0;
};

struct ConnectInfo {
  std::string hostname;
  char family = 'U';  // '4', '6', 'L' (unix socket) or 'U' (unknown)
  std::uint16_t port = 0;
  std::string address;
};

struct HeaderInfo {
  std::string name;
  std::string value;
};

// Command decoders: nullopt (with `why` set) on malformed data.
std::optional<OptionNegotiation> parse_optneg(std::string_view data, std::string& why);
// SMFIC_MACRO: the command the macros are for, then name/value pairs.
std::optional<std::pair<char, std::vector<std::pair<std::string, std::string>>>> parse_macros(std::string_view data,
                                                                                             std::string& why);
std::optional<ConnectInfo> parse_connect(std::string_view data, std::string& why);
std::optional<HeaderInfo> parse_header(std::string_view data, std::string& why);
// NUL-terminated strings (HELO, MAIL and RCPT arguments, UNKNOWN); at least one.
std::optional<std::vector<std::string>> parse_strings(std::string_view data, std::string& why);

// Reply encoders: whole packets, ready for the wire.
std::string encode(char reply_command, std::string_view data = {});
std::string encode_optneg(const OptionNegotiation& o,
                          const std::vector<std::pair<MacroStage, std::string>>& symlists = {});
// "550 5.7.1 text": a '%' in text is doubled (the MTA reads it as a format).
std::string encode_replycode(int code, std::string_view enhanced, std::string_view text);
std::string encode_quarantine(std::string_view reason);
std::string encode_add_header(std::string_view name, std::string_view value);
std::string encode_insert_header(std::uint32_t index, std::string_view name, std::string_view value);
// index counts from 1 among the fields of that name; an empty value deletes the field.
std::string encode_change_header(std::uint32_t index, std::string_view name, std::string_view value);
// The body in packets of at most 65535 bytes.
std::vector<std::string> encode_replace_body(std::string_view body);
std::string encode_add_rcpt(std::string_view address);
std::string encode_del_rcpt(std::string_view address);
std::string encode_change_from(std::string_view address, std::string_view esmtp_args = {});

// Human-readable name of a command byte, for logs ("connect", "0x7f").
std::string command_name(char c);

}  // namespace mailmoat::milter
