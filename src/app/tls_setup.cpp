#include "app/tls_setup.h"

#include "tls/client_context.h"
#include "util/strings.h"

namespace mailmoat::app {

util::Result<tls::ServerTlsConfig> listener_tls(const Config& cfg, std::size_t index) {
  const ListenerConfig& l = cfg.smtp.listeners.at(index);
  tls::ServerTlsConfig t;
  t.certificate = {l.tls_cert, l.tls_key, {}, l.ocsp_file};
  for (std::size_t i = 0; i < cfg.tls.certificates.size(); ++i) {
    const auto& c = cfg.tls.certificates[i];
    if (c.listener != l.name) continue;
    if (l.tls_cert.empty())
      return util::fail("tls.certificate[" + std::to_string(i) + "]: listener " + l.name + " has no tls_cert");
    t.sni.push_back({c.cert, c.key, c.names, c.ocsp_file});
  }
  // Client certificates are asked for only when some partner expects them.
  if (t.enabled())
    for (const auto& p : cfg.tls.partners)
      if (p.require_client_certificate && !p.ca_file.empty()) t.client_ca_files.push_back(p.ca_file);
  return t;
}

util::Result<std::shared_ptr<const tls::PartnerConnectors>> partner_connectors(const Config& cfg) {
  std::vector<tls::PartnerConnector> connectors;
  for (std::size_t i = 0; i < cfg.tls.partners.size(); ++i) {
    const auto& p = cfg.tls.partners[i];
    const std::string where = "tls.partner[" + std::to_string(i) + "]";
    tls::PartnerConfig pc;
    pc.name = p.name;
    pc.sender_domains = p.sender_domains;
    pc.require_tls = p.require_tls;
    pc.require_client_certificate = p.require_client_certificate;
    pc.accepted_names = p.accepted_names;
    pc.ca_file = p.ca_file;
    for (const auto& n : p.client_networks) {
      auto net = util::parse_network(n);
      if (!net) return util::fail(where + ".client_networks: " + net.error().message);
      pc.client_networks.push_back(*net);
    }
    auto parts = util::split(p.refusal, ' ');
    auto code = parts.size() == 2 ? util::parse_uint(parts[0]) : std::nullopt;
    if (!code) return util::fail(where + ".refusal: expected \"code status\" like \"450 4.7.320\", got \"" + p.refusal + "\"");
    pc.refusal_code = static_cast<int>(*code);
    pc.refusal_status = std::string(parts[1]);
    if (pc.sender_domains.empty()) return util::fail(where + " (" + p.name + "): sender_domains is empty");
    auto loaded = tls::PartnerConnector::load(std::move(pc));
    if (!loaded) return util::fail(where + ": " + loaded.error().message);
    connectors.push_back(std::move(*loaded));
  }
  return std::make_shared<const tls::PartnerConnectors>(std::move(connectors));
}

util::Result<std::shared_ptr<const tls::ClientPolicyTable>> outbound_tls_policies(const Config& cfg) {
  tls::ClientPolicy fallback;
  fallback.level = tls::parse_level(cfg.tls.outbound_level).value_or(tls::Level::may);
  fallback.ca_file = cfg.tls.outbound_ca_file;
  fallback.origin = "tls.outbound_level";
  std::vector<tls::PolicyEntry> entries;
  for (std::size_t i = 0; i < cfg.tls.policies.size(); ++i) {
    const auto& p = cfg.tls.policies[i];
    const std::string where = "tls.policy[" + std::to_string(i) + "]";
    tls::PolicyEntry e;
    e.domains = p.domains;
    e.policy.level = tls::parse_level(p.level).value_or(tls::Level::may);
    e.policy.match_names = p.match;
    e.policy.fingerprints = p.fingerprints;
    e.policy.ca_file = p.ca_file.empty() ? cfg.tls.outbound_ca_file : p.ca_file;
    e.policy.client_cert = p.client_cert;
    e.policy.client_key = p.client_key;
    e.policy.origin = where;
    if (p.domains.empty()) return util::fail(where + ": domains is empty");
    if (p.client_cert.empty() != p.client_key.empty()) return util::fail(where + ": client_cert and client_key go together");
    if (e.policy.level == tls::Level::fingerprint && p.fingerprints.empty())
      return util::fail(where + ": level fingerprint needs fingerprints");
    if (auto built = tls::ClientContext::build(e.policy); !built) return util::fail(where + ": " + built.error().message);
    entries.push_back(std::move(e));
  }
  if (auto built = tls::ClientContext::build(fallback); !built) return util::fail("tls.outbound_ca_file: " + built.error().message);
  return std::make_shared<const tls::ClientPolicyTable>(std::move(fallback), std::move(entries));
}

}  // namespace mailmoat::app
