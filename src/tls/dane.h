// DANE for SMTP (RFC 7672) on OpenSSL's DANE verifier: which TLSA records are
// usable (RFC 7672 §3.1.3: DANE-TA(2) and DANE-EE(3) only, PKIX-TA(0) and
// PKIX-EE(1) are unusable for SMTP; selectors 0/1, matching types 0/1/2 per
// RFC 6698/7218), and arming one TLS session with them before its handshake.
// DANE-EE skips name checks (RFC 7672 §3.1.1); DANE-TA checks the MX host name.
#pragma once

#include <string>
#include <vector>

#include "dns/types.h"

typedef struct ssl_st SSL;

namespace mailmoat::tls {

struct TlsaSet {
  std::vector<dns::TlsaRecord> usable;
  std::vector<std::string> ignored;  // "0 0 1: PKIX-TA is unusable for SMTP (RFC 7672 §3.1.3)"
};

TlsaSet usable_tlsa(const std::vector<dns::TlsaRecord>& records);

// "3 1 1 ab12..." (data shortened to `max_bytes`), for logs and the trace.
std::string tlsa_text(const dns::TlsaRecord& r, std::size_t max_bytes = 8);

// Enables DANE on `ssl` with `records` (all usable) and `mx_host` (the TLSA
// base domain) as the reference identifier for DANE-TA; `alt_name`, when set,
// is accepted too (the original MX name when the base domain is its secure
// CNAME expansion, RFC 7672 §2.2.2/§3.2.2). The context must have been built
// for a DANE level. Empty string on success, else why it could not be armed.
std::string arm_dane(SSL* ssl, const std::vector<dns::TlsaRecord>& records, const std::string& mx_host,
                     const std::string& alt_name = {});

// After the handshake: the matched record, or why none matched.
struct DaneCheck {
  bool ok = false;
  std::string detail;  // "DANE-EE 3 1 1 matched" or the failure
};
DaneCheck check_dane(SSL* ssl);

}  // namespace mailmoat::tls
