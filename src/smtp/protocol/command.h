// SMTP command lines (RFC 5321 §4.1) parsed into values: the verb and its
// arguments, with MAIL/RCPT paths and ESMTP parameters (SIZE, BODY,
// SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (RFC 3461)), BDAT (RFC 3030).
// A line that does not parse yields the reply that explains why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "smtp/protocol/reply.h"

namespace mailmoat::smtp {

enum class Verb { ehlo, helo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, expn, help, starttls, auth, unknown };

// An envelope address; `address` is empty for the null reverse-path "<>".
struct Path {
  std::string address;  // local@domain, as received (source route dropped)
  std::string local_part() const;
  std::string domain() const;  // lower-cased
};

struct MailParams {
  std::optional<std::uint64_t> size;
  std::string body;  // "", "7BIT", "8BITMIME"
  bool smtputf8 = false;
  std::string ret;    // "", "FULL", "HDRS"
  std::string envid;  // xtext-decoded
  bool requiretls = false;
};

struct RcptParams {
  std::string notify;  // "", or comma list of NEVER, SUCCESS, FAILURE, DELAY
  std::string orcpt;   // "rfc822;addr" with xtext decoded
};

struct Command {
  Verb verb = Verb::unknown;
  std::string argument;  // EHLO/HELO domain, VRFY/HELP text
  Path path;             // MAIL / RCPT
  MailParams mail;
  RcptParams rcpt;
  std::uint64_t chunk_size = 0;  // BDAT
  bool last_chunk = false;       // BDAT ... LAST
};

using ParseOutcome = std::variant<Command, Reply>;

// `line` excludes the CRLF. `utf8_allowed`: whether 8-bit bytes may appear in
// paths (only after MAIL ... SMTPUTF8, decided by the caller for RCPT).
ParseOutcome parse_command(std::string_view line, bool utf8_allowed_in_rcpt = false);

// RFC 3461 §4: xtext "+XX" hex escapes. nullopt on a malformed escape.
std::optional<std::string> decode_xtext(std::string_view s);

}  // namespace mailmoat::smtp
