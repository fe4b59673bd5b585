// Fuzzes the TLS-RPT record parser (RFC 8460 §3) and feeds what it yields to
// the aggregate report writer (§4), whose JSON must stay well-formed text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tls/tlsrpt_record.h"
#include "tls/tlsrpt_report.h"

using namespace mailmoat;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)tls::select_tlsrpt_record({text, "v=spf1 -all"});
  if (auto r = tls::parse_tlsrpt_record(text)) {
    std::vector<tls::TlsRptResult> rows;
    for (const auto& m : r->mailto) rows.push_back({"example.com", "sts", text, m, "validation-failure", m, m, m, text, 1});
    (void)tls::tlsrpt_json({text, text, text, 20000}, "example.com", rows);
  }
  return 0;
}
