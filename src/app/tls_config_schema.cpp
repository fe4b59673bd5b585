// Schema of the transport-security tables: SNI certificates per listener and
// partner connectors (docs/tls.md).
#include "app/config_schema.h"

namespace mailmoat::app {

void add_tls_schema(Schema& s, Config& c) {
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
