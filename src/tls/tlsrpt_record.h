// The TLS-RPT policy record (RFC 8460 §3): the TXT record at
// _smtp._tls.<domain>, "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/".
// Pure: text in, the report destinations or a reason out. Of several TXT
// strings exactly one may start with "v=TLSRPTv1", else there is no policy;
// rua URIs other than mailto: and https: are skipped (§3: "ignore"), and a
// record left without any destination is no record.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace mailmoat::tls {

struct TlsRptRecord {
  std::vector<std::string> mailto;  // addresses, percent-decoded, without "mailto:" and any ?query
  std::vector<std::string> https;   // full https:// URLs
  std::vector<std::string> skipped; // rua entries not used, for the log
};

util::Result<TlsRptRecord> parse_tlsrpt_record(std::string_view txt);
util::Result<TlsRptRecord> select_tlsrpt_record(const std::vector<std::string>& txts);

}  // namespace mailmoat::tls
