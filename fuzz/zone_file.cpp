// Fuzzes the RFC 1035 master-file parser and the zone resolver built from it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dns/zone_resolver.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  mailmoat::dns::ZoneResolver zone;
  if (zone.load(text, "example.com", "fuzz")) {
    auto a = zone.lookup({"example.com", mailmoat::dns::RecordType::txt});
    (void)a;
  }
  return 0;
}
