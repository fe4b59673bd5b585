// libFuzzer target: the message splitter and From address extraction.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mail/address.h"
#include "mail/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string norm = mailmoat::mail::normalize_line_endings(bytes);
  auto m = mailmoat::mail::Message::parse(norm);
  if (m) {
    (void)mailmoat::mail::from_domain(*m);
    for (const auto& f : m->fields()) (void)mailmoat::mail::parse_mailbox_list(f.value);
  }
  return 0;
}
