// Outbound TLS policy per destination, after Postfix's smtp_tls_policy_maps
// levels: none (never STARTTLS), may (opportunistic, the default), encrypt
// (TLS required, any certificate), verify (chain and name: configured names
// or the MX host), secure (chain and name: configured names or the recipient
// domain and its subdomains), fingerprint (the leaf's SHA-256 is listed).
// A required level that fails defers the message; nothing goes in clear.
// dane / dane-only (RFC 7672) are resolved per MX host by the SMTP client from
// DNSSEC-validated TLSA records (tls/dane.h): a host with usable records gets
// the effective level dane, one without gets may (dane) or is refused (dane-only).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailmoat::tls {

enum class Level { none, may, encrypt, verify, secure, fingerprint, dane, dane_only };

std::optional<Level> parse_level(std::string_view text);
const char* level_name(Level level);
// Levels at which delivery must not continue without TLS.
inline bool requires_tls(Level l) { return l != Level::none && l != Level::may; }
// Levels that check the server's certificate chain and name.
inline bool authenticates(Level l) {
  return l == Level::verify || l == Level::secure || l == Level::fingerprint || l == Level::dane || l == Level::dane_only;
}
// Levels whose certificate check comes from TLSA records found per MX host.
inline bool uses_dane(Level l) { return l == Level::dane || l == Level::dane_only; }

struct ClientPolicy {
  Level level = Level::may;
  std::vector<std::string> match_names;   // verify/secure: names the server certificate must present
  std::vector<std::string> fingerprints;  // fingerprint: SHA-256 of the leaf certificate, hex (colons optional)
  std::string ca_file;                    // empty: the system's trust store
  std::string client_cert;                // presented when set (mutual TLS with a partner)
  std::string client_key;
  std::string origin = "default";         // where the policy came from, for the trace
  // Identifies the settings a context and a pooled connection were built for.
  std::string key() const;
};

struct PolicyEntry {
  std::vector<std::string> domains;  // recipient domains; "*.example.com" for subdomains
  ClientPolicy policy;
};

class ClientPolicyTable {
 public:
  ClientPolicyTable() = default;
  ClientPolicyTable(ClientPolicy default_policy, std::vector<PolicyEntry> entries)
      : default_(std::move(default_policy)), entries_(std::move(entries)) {}
  // The policy for a recipient domain; REQUIRETLS (RFC 8689 §4.2) raises it to
  // at least verify against the MX host name.
  ClientPolicy for_domain(std::string_view domain, bool requiretls = false) const;

 private:
  ClientPolicy default_;
  std::vector<PolicyEntry> entries_;
};

}  // namespace mailmoat::tls
