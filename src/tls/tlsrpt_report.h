// TLS-RPT aggregate report (RFC 8460 §4): the JSON body for one policy domain
// and one UTC day, built from counted session results, and the file name of
// §5.3. Pure: rows in, text out. Successes are rows with an empty result_type;
// failures carry one of the result types of §4.3 (starttls-not-supported,
// certificate-host-mismatch, certificate-expired, certificate-not-trusted,
// validation-failure, tlsa-invalid, dnssec-invalid, dane-required,
// sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mailmoat::tls {

struct TlsRptResult {
  std::string policy_domain;
  std::string policy_type;    // "tlsa", "sts" or "no-policy-found"
  std::string policy_string;  // lines of the policy (STS policy text lines, TLSA records), '\n'-separated
  std::string mx_host;        // the policy's mx patterns (sts), '\n'-separated
  std::string result_type;    // empty: the session succeeded
  std::string sending_ip;
  std::string receiving_mx;
  std::string receiving_ip;
  std::string reason;         // failure-reason-code (free text)
  std::int64_t count = 1;
};

struct TlsRptMeta {
  std::string organization;  // organization-name
  std::string contact;       // contact-info (the reporting address)
  std::string report_id;
  std::int64_t day = 0;      // UTC days since the epoch
};

std::string tlsrpt_json(const TlsRptMeta& meta, const std::string& policy_domain, const std::vector<TlsRptResult>& rows);

// §5.3: "<sender>!<policy-domain>!<begin-timestamp>!<end-timestamp>[!<unique-id>].json.gz"
std::string tlsrpt_filename(const std::string& sender, const std::string& policy_domain, std::int64_t day,
                            const std::string& unique_id);

}  // namespace mailmoat::tls
