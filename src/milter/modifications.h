// What mailmoat changed in a message, as milter modification requests: the
// final message (after every filter, including those that edit the bytes in
// place, like signing) is diffed against the message as received. Header
// fields: deletions (SMFIR_CHGHEADER with an empty value, per-name index,
// bottom-up so indices stay valid), then insertions top-down
// (SMFIR_INSHEADER at the field's final position, SMFIR_ADDHEADER at the end).
// The body is replaced (SMFIR_REPLBODY) only when it differs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::milter {

struct HeaderChanges {
  std::vector<std::string> packets;  // encoded requests, in the order to send them
  std::size_t removed = 0;
  std::size_t inserted = 0;
  bool body_replaced = false;
};

// `received` and `final` are whole messages with CRLF line ends. With
// `leading_space` (SMFIP_HDR_LEADSPC agreed) values keep the white space after
// the colon; otherwise it is stripped, as the MTA then adds one space itself.
// Returns nullopt with `why` when either message cannot be parsed.
std::optional<HeaderChanges> diff_messages(std::string_view received, std::string_view final, bool leading_space,
                                           std::string& why);

}  // namespace mailmoat::milter
