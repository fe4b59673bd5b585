// Partner connectors ("Domain Security"): mutual TLS agreed with another
// organisation. A connector names the sender domains it covers and what a
// session carrying their mail must show: TLS, a client certificate chaining
// to the partner's CA bundle, a name from the accepted list (RFC 6125
// matching, see identity.h), an address in the partner's networks. A check
// names the first requirement that failed so the trace can say why.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/cidr.h"
#include "util/error.h"

typedef struct x509_store_st X509_STORE;

namespace mailmoat::tls {

struct PartnerConfig {
  std::string name;
  std::vector<std::string> sender_domains;  // "example.com", or "*.example.com" for its subdomains
  bool require_tls = true;
  bool require_client_certificate = true;
  std::vector<std::string> accepted_names;  // empty: any name, as long as the chain verifies
  std::string ca_file;                      // PEM bundle the partner's client certificates chain to
  std::vector<util::Network> client_networks;  // empty: any address
  int refusal_code = 450;                   // 4xx: the partner retries after fixing its side
  std::string refusal_status = "4.7.320";
};

// What the session offers to the check (copied from the TLS session facts).
struct PeerSession {
  bool tls = false;
  std::vector<std::string> chain_der;  // leaf first; empty: no client certificate
  std::string client_address;
};

struct PartnerCheck {
  bool ok = false;
  std::string requirement;  // the failed one: client_networks, require_tls, require_client_certificate,
                            // certificate_chain, certificate_name
  std::string detail;       // human-readable reason
};

class PartnerConnector {
 public:
  static util::Result<PartnerConnector> load(PartnerConfig config);
  const PartnerConfig& config() const { return config_; }
  bool covers(std::string_view sender_domain) const;
  PartnerCheck check(const PeerSession& session) const;
  // Mutual TLS: the session proved the partner's identity, so its mail is domain-secured.
  bool mutual() const { return config_.require_tls && config_.require_client_certificate; }

 private:
  PartnerConfig config_;
  std::shared_ptr<X509_STORE> store_;
};

// All connectors; the first one covering a sender domain applies.
class PartnerConnectors {
 public:
  explicit PartnerConnectors(std::vector<PartnerConnector> connectors) : connectors_(std::move(connectors)) {}
  const PartnerConnector* for_sender(std::string_view sender_address) const;
  bool empty() const { return connectors_.empty(); }

 private:
  std::vector<PartnerConnector> connectors_;
};

}  // namespace mailmoat::tls
