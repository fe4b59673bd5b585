// Schema of the transport-security tables: SNI certificates per listener and
// partner connectors (docs/tls.md).
#include "app/config_schema.h"

namespace mailmoat::app {

void add_tls_schema(Schema& s, Config& c) {
  const std::vector<std::string> levels{"none", "may", "encrypt", "verify", "secure", "fingerprint", "dane", "dane-only"};
  s.sections.push_back(Section{"tls", {
      {.key = "outbound_level", .target = &c.tls.outbound_level,
       .doc = "outbound TLS for domains without a [[tls.policy]]: none, may, encrypt, verify, secure, fingerprint, dane, dane-only",
       .check = Check::one_of, .choices = levels},
      {.key = "outbound_ca_file", .target = &c.tls.outbound_ca_file,
       .doc = "PEM CA bundle for verifying next hops; empty: the system trust store"},
      {.key = "mta_sts", .target = &c.tls.mta_sts,
       .doc = "apply recipient domains' MTA-STS policies (RFC 8461) to delivery by MX"},
  }});
  s.arrays.push_back(TableArray{
      "tls.policy", "outbound TLS policy for some recipient domains; first match wins",
      [&c] { return c.tls.policies.size(); },
      [&c](std::size_t n) { c.tls.policies.resize(n); },
      [&c, levels](std::size_t i) {
        TlsPolicyConfig& p = c.tls.policies[i];
        return std::vector<Field>{
            {.key = "domains", .target = &p.domains, .doc = "recipient domains; \"*.example.com\" for subdomains"},
            {.key = "level", .target = &p.level, .doc = "none, may, encrypt, verify, secure, fingerprint, dane or dane-only",
             .check = Check::one_of, .choices = levels},
            {.key = "match", .target = &p.match,
             .doc = "names the server certificate must present; empty: the MX host (verify), the domain (secure)"},
            {.key = "fingerprints", .target = &p.fingerprints, .doc = "level fingerprint: SHA-256 of the server certificate"},
            {.key = "ca_file", .target = &p.ca_file, .doc = "PEM CA bundle; empty: tls.outbound_ca_file"},
            {.key = "client_cert", .target = &p.client_cert, .doc = "PEM client certificate presented (mutual TLS)"},
            {.key = "client_key", .target = &p.client_key, .doc = "PEM private key for client_cert"},
        };
      }});
  s.arrays.push_back(TableArray{
      "tls.certificate", "more certificates for a listener, chosen by the client's SNI name",
      [&c] { return c.tls.certificates.size(); },
      [&c](std::size_t n) { c.tls.certificates.resize(n); },
      [&c](std::size_t i) {
        TlsCertificateConfig& t = c.tls.certificates[i];
        return std::vector<Field>{
            {.key = "listener", .target = &t.listener, .doc = "name of the [[smtp.listener]] (which must have tls_cert)"},
            {.key = "names", .target = &t.names, .doc = "server names served with it; \"*.example.com\" allowed"},
            {.key = "cert", .target = &t.cert, .doc = "PEM certificate chain, leaf first"},
            {.key = "key", .target = &t.key, .doc = "PEM private key for cert"},
            {.key = "ocsp_file", .target = &t.ocsp_file, .doc = "DER OCSP response for cert, stapled; empty: none"},
        };
      }});
  s.arrays.push_back(TableArray{
      "tls.partner", "partner connectors: mutual TLS agreed with another organisation (Domain Security)",
      [&c] { return c.tls.partners.size(); },
      [&c](std::size_t n) { c.tls.partners.resize(n); },
      [&c](std::size_t i) {
        PartnerConnectorConfig& p = c.tls.partners[i];
        return std::vector<Field>{
            {.key = "name", .target = &p.name, .doc = "partner name, shown in X-Mailmoat-Domain-Secured and the trace"},
            {.key = "sender_domains", .target = &p.sender_domains,
             .doc = "envelope sender domains the connector covers; \"*.example.com\" for subdomains"},
            {.key = "require_tls", .target = &p.require_tls, .doc = "mail from these domains must arrive over TLS"},
            {.key = "require_client_certificate", .target = &p.require_client_certificate,
             .doc = "the partner must present a client certificate chaining to ca_file (mutual TLS)"},
            {.key = "accepted_names", .target = &p.accepted_names,
             .doc = "names the certificate must present (SAN dNSName, else CN; RFC 6125); empty: any"},
            {.key = "ca_file", .target = &p.ca_file, .doc = "PEM CA bundle the partner's certificates chain to"},
            {.key = "client_networks", .target = &p.client_networks,
             .doc = "addresses (CIDR) the partner sends from; empty: any", .check = Check::cidr},
            {.key = "refusal", .target = &p.refusal,
             .doc = "reply code and enhanced status when a requirement fails (4xx: the partner retries)"},
        };
      }});
}

}  // namespace mailmoat::app
