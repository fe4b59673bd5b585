// libFuzzer target: reading a Safe Link back (percent-decoding, parameters) and
// checking its signature. Whatever parses must round-trip through wrap().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "links/token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto signer = *mailmoat::links::LinkSigner::create("https://l.example", {"fuzz-key-0123456789abcdef"});
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto link = mailmoat::links::parse_link(text);
  if (!link) return 0;
  (void)signer.verify(*link);
  auto again = mailmoat::links::parse_link(signer.wrap(link->fields));
  if (!again || again->fields.url != link->fields.url || again->fields.message != link->fields.message ||
      again->fields.recipient != link->fields.recipient || !signer.verify(*again))
    std::abort();
  return 0;
}
