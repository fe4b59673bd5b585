// libFuzzer target: ARC header fields (AAR, AMS, AS) and whole-message chain
// validation and DKIM verification without DNS answers (every parse and
// hash path runs; signatures end as temperror/fail).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/arc/headers.h"
#include "auth/arc/verifier.h"
#include "auth/dkim/verifier.h"
#include "mail/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mailmoat;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int instance = 0;
  (void)auth::arc::parse_aar_instance(text);
  (void)auth::arc::parse_message_signature(text, instance);
  (void)auth::arc::parse_seal(text);
  std::string norm = mail::normalize_line_endings(text);
  auto m = mail::Message::parse(norm);
  if (m) {
    (void)auth::arc::ChainVerification(*m).result();
    (void)auth::dkim::Verification(*m, auth::dkim::VerifyOptions{}).results();
  }
  return 0;
}
