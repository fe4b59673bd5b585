// SHA-256 of attachment bytes (the key of block/allow lists and the verdict
// cache). Its own non-pure library only because <openssl/evp.h> includes
// <openssl/bio.h>, which the pure-module poison headers forbid (as dkim_crypto).
#pragma once

#include <string>
#include <string_view>

namespace mailmoat::attachments {

std::string sha256_hex(std::string_view bytes);  // lower-case hex

}  // namespace mailmoat::attachments
