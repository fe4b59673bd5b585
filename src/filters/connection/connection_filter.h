// The `connection` filter: connection filtering before content, as Exchange's
// connection filter does. A client in the IP allow list bypasses spam
// filtering (SCL -1); an envelope sender on the sender block list is refused;
// an authenticated sender (SPF or DMARC pass) on the sender allow list gets
// SCL -1 (unauthenticated senders are not trusted: the list would otherwise be
// an invitation to spoof); a client listed in a DNS block list (RFC 5782)
// raises the SCL, with the list's return code translated into its meaning.
// The IP block list is applied earlier, at connect, by the SMTP server.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dns/resolver.h"
#include "pipeline/filter.h"
#include "util/cidr.h"

namespace mailmoat::filters {

struct ConnectionConfig {
  std::vector<util::Network> ip_allow;
  std::vector<std::string> sender_allow, sender_block;  // lower case: "user@domain" or "domain" (and subdomains)
  std::vector<std::string> dnsbl_zones;
  std::map<std::string, std::string> dnsbl_codes;  // "127.0.0.2" -> "spam source"; empty: any 127.0.0.0/8 answer
  int dnsbl_scl = 9;
  // Time the DNS block list lookups may take together: a zone that has not
  // answered by then is traced (dnsbl_timeout) and ignored; mail continues.
  std::chrono::milliseconds dnsbl_timeout{1500};
  std::vector<std::string> roles{"inbound"};
  // Senders allowed from the quarantine ("allow the sender"), kept in the shared
  // store and read from a cache; same rule as sender_allow (SPF or DMARC pass).
  std::function<std::shared_ptr<const std::vector<std::string>>()> shared_sender_allow;
};

// Runs fn after delay (a timer of the caller's event loop; pure modules have none).
using Scheduler = std::function<void(std::chrono::milliseconds, std::move_only_function<void()>)>;

// "user@domain" matches itself; "domain" matches addresses at it and its subdomains.
bool sender_listed(const std::string& sender, const std::vector<std::string>& list);
// The RFC 5782 query name of `ip` in `zone` ("2.0.0.127.zone"; IPv6 by nibbles); "" if not an address.
std::string dnsbl_query(const std::string& ip, const std::string& zone);

class ConnectionFilter : public pipeline::Filter {
 public:
  // Without a scheduler the DNSBL lookups wait for the resolver's own timeout.
  ConnectionFilter(ConnectionConfig config, dns::Resolver& resolver, Scheduler scheduler = {})
      : config_(std::move(config)), resolver_(resolver), scheduler_(std::move(scheduler)) {}
  std::string name() const override { return "connection"; }
  void on_message(pipeline::MessageContext& context, Done done) override;

 private:
  ConnectionConfig config_;
  dns::Resolver& resolver_;
  Scheduler scheduler_;
};

}  // namespace mailmoat::filters
