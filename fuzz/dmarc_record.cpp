// Fuzzes the DMARC record parser, the rua destinations and report XML built
// from it, and an evaluation that finds the input as policy.
#include <cstddef>
#include <cstdint>
#include <string>

#include "auth/dmarc/dmarc.h"
#include "auth/dmarc/report.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto record = auth::dmarc::parse_record(text)) {
    (void)auth::dmarc::mailto_destinations(record->rua);
    auth::dmarc::ReportRow row{text, 1, "none", "pass", "fail", text, text, text, text, "pass", text, "fail"};
    (void)auth::dmarc::aggregate_report_xml({}, text, *record, {row});
  }
  dns::ZoneResolver zone;
  zone.add_txt("_dmarc.example.com", text);
  auth::dmarc::Input in;
  in.from_domain = "mail.example.com";
  in.spf = {"bounce.example.com", auth::dmarc::AuthOutcome::pass};
  (void)auth::dmarc::evaluate(zone, in);
  return 0;
}
