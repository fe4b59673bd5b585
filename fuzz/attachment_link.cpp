// libFuzzer target: reading a Dynamic Delivery attachment link (/v1/a query:
// percent-decoding, fields) and checking its signature. Whatever parses must
// round-trip through link() and verify.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "links/attachment_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto signer =
      *mailmoat::links::AttachmentLinkSigner::create("https://l.example", {"fuzz-key-0123456789abcdef"});
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto link = mailmoat::links::parse_attachment_link(text);
  if (!link) return 0;
  (void)signer.verify(*link);
  std::string made = signer.link(link->message, link->part);
  auto again = mailmoat::links::parse_attachment_link(made.substr(made.find('?') + 1));
  if (!again || again->message != link->message || again->part != link->part || !signer.verify(*again)) std::abort();
  return 0;
}
