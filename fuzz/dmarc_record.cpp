// Fuzzes the DMARC record parser and an evaluation that finds the input as policy.
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/dmarc/dmarc.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)auth::dmarc::parse_record(text);
  dns::ZoneResolver zone;
  zone.add_txt("_dmarc.example.com", text);
  auth::dmarc::Input in;
  in.from_domain = "mail.example.com";
  in.spf = {"bounce.example.com", auth::dmarc::AuthOutcome::pass};
  (void)auth::dmarc::evaluate(zone, in);
  return 0;
}
