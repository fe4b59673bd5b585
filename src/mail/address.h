// Mailbox extraction from address header fields (RFC 5322 section 3.4):
// enough of the grammar for DMARC and DKIM alignment, i.e. finding each
// mailbox's addr-spec under display names, comments, quoted strings, groups
// and obsolete routes. A From with several mailboxes or several From fields
// is reported as such, because alignment is undefined for them (RFC 7489 6.6.1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mail/message.h"
#include "util/error.h"

namespace mailmoat::mail {

struct Mailbox {
  std::string local_part;  // as written, quotes removed
  std::string domain;      // lower case, without a trailing dot
};

// Parses a mailbox-list / address-list field value; fails when a mailbox has
// no addr-spec or the quoting, comments or angle brackets do not balance.
util::Result<std::vector<Mailbox>> parse_mailbox_list(std::string_view value);

enum class FromStatus { ok, missing, several_fields, several_mailboxes, unparsable };

struct FromDomain {
  FromStatus status = FromStatus::missing;
  std::string domain;  // set when status == ok
  std::string reason;  // set otherwise
};

// The RFC5322.From domain of `message`.
FromDomain from_domain(const Message& message);

}  // namespace mailmoat::mail
