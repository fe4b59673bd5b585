// DMARC aggregate reports (RFC 9990; readable by RFC 7489 Appendix C consumers):
// the XML document for one policy domain and one reporting period, the report
// file name and subject of RFC 9990 §2.5 and 4.3, and the mailto destinations of
// an rua tag with their size limits. Pure: the caller supplies rows and records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/dmarc/record.h"

namespace mailmoat::auth::dmarc {

struct ReportMetadata {
  std::string org_name;       // the reporting organization (our host name by default)
  std::string email;          // contact address of the reporter
  std::string contact;        // extra_contact_info, optional
  std::string report_id;      // unique per report
  std::int64_t begin = 0;     // unix seconds, inclusive
  std::int64_t end = 0;       // unix seconds, exclusive
  std::string discovery = "treewalk";  // treewalk (RFC 9989) or psl (RFC 7489)
};

struct ReportRow {
  std::string source_ip;
  std::int64_t count = 0;
  std::string disposition;  // none | quarantine | reject
  std::string dmarc_dkim;   // pass | fail
  std::string dmarc_spf;    // pass | fail
  std::string header_from;
  std::string envelope_from;
  std::string dkim_domain, dkim_selector, dkim_result;  // empty domain: no signature
  std::string spf_domain, spf_result;
};

std::string aggregate_report_xml(const ReportMetadata& meta, std::string_view policy_domain, const Record& published,
                                 const std::vector<ReportRow>& rows);
// "receiver!policy-domain!begin!end!id.xml.gz" (RFC 9990 §4.3 filename).
std::string report_file_name(const ReportMetadata& meta, std::string_view policy_domain);
// "Report Domain: D Submitter: S Report-ID: <ID>" (RFC 9990 §4.3).
std::string report_subject(const ReportMetadata& meta, std::string_view policy_domain);

struct ReportDestination {
  std::string address;        // the mailto address, percent-decoded
  std::uint64_t max_size = 0; // from "!10m"; 0: no limit
};
// The mailto: URIs of an rua tag; other schemes and malformed URIs are skipped.
std::vector<ReportDestination> mailto_destinations(const std::vector<std::string>& uris);
// RFC 9989 §3.2.6 / RFC 7489 §7.1: a destination outside the policy domain's
// organization must publish "<policy-domain>._report._dmarc.<destination-domain>".
std::string verification_name(std::string_view policy_domain, std::string_view destination_domain);

}  // namespace mailmoat::auth::dmarc
