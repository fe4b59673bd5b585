// Fuzzes the MTA-STS policy file and TXT record parsers (RFC 8461 3.1, 3.2)
// and MX matching against whatever patterns the input yields.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tls/mta_sts_policy.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)tls::parse_sts_record(text);
  (void)tls::select_sts_record({text, "v=STSv1; id=1"});
  if (auto p = tls::parse_sts_policy(text)) {
    (void)tls::sts_allows_mx(*p, "mx1.example.com");
    for (const auto& mx : p->mx) (void)tls::sts_mx_matches(mx, text);
  }
  return 0;
}
