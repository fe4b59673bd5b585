// DMARC policy records (RFC 9989 §4.7 tags, RFC 7489 §6.3): a tag=value list
// starting with v=DMARC1. Unknown tags are ignored; an invalid or missing p=
// reads as p=none (RFC 9989 §4.7) and is flagged so reports can say so.
// pct, rf, ri are kept for reporting only and never change the verdict.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::auth::dmarc {

enum class Policy { none, quarantine, reject };
enum class Alignment { relaxed, strict };
enum class PsdFlag { unset, yes, no };

std::string_view to_string(Policy p);

struct Record {
  Policy p = Policy::none;
  bool p_valid = false;             // p= was present and understood
  std::optional<Policy> sp, np;
  Alignment adkim = Alignment::relaxed, aspf = Alignment::relaxed;
  PsdFlag psd = PsdFlag::unset;
  bool testing = false;             // t=y
  std::optional<unsigned> pct;      // RFC 7489 only; pct=0 reads as t=y
  std::vector<std::string> rua, ruf;
  std::string fo;
};

// True when the TXT string claims to be DMARC (starts with "v=DMARC1").
bool is_dmarc_record(std::string_view txt);
util::Result<Record> parse_record(std::string_view txt);

}  // namespace mailmoat::auth::dmarc
