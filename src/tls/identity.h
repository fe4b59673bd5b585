// Certificate identity checks (RFC 6125 §6): which DNS names a certificate
// presents (subjectAltName dNSName; the subject CN only when there is no
// dNSName, §6.4.4) and whether a presented name matches a reference name.
// A wildcard is honoured only as the whole left-most label ("*.example.com"),
// never partial labels ("f*o.example.com") and never across labels.
#pragma once

#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;

namespace mailmoat::tls {

// True when `presented` (from a certificate, may hold a left-most wildcard)
// matches `reference` (a configured name, may itself be a left-most wildcard
// pattern standing for any one host label). ASCII case-insensitive.
bool name_matches(std::string_view presented, std::string_view reference);

// True when any presented name matches any reference name.
bool any_name_matches(const std::vector<std::string>& presented, const std::vector<std::string>& references);

// The dNSName entries of the certificate, or its subject CN when it has none.
std::vector<std::string> certificate_names(X509* cert);

// RFC 2253 form of the subject ("CN=mx.example.net,O=Example").
std::string certificate_subject(X509* cert);

}  // namespace mailmoat::tls
