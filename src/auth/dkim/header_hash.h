// The header data a DKIM or ARC signature covers (RFC 6376 section 3.7 and
// 5.4.2): for each name in h=, the last not yet used instance of that field
// (searching from the bottom); names with no instance left (over-signing)
// contribute nothing. The signature field itself follows, with b= emptied
// and without its final CRLF.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "auth/dkim/signature.h"
#include "mail/message.h"

namespace mailmoat::auth::dkim {

// The whole field (name, colon, value) with its b= value removed; the field
// unchanged when it has no parsable b= (the signature then fails anyway).
std::string field_without_b(const mail::HeaderField& field);
// The same for a field whose value already parsed as `signature` (its b=
// span recorded then): no second tag parse.
std::string field_without_b(const mail::HeaderField& field, const Signature& signature);

std::string signed_header_data(const mail::Message& message, const std::vector<std::string>& names, Canon canon,
                               std::string_view signature_field_blanked);

}  // namespace mailmoat::auth::dkim
