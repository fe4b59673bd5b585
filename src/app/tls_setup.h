// Transport-security wiring for `serve`: each listener's TLS configuration
// (default certificate, SNI certificates, partner CA bundles to request client
// certificates against) and the partner connectors, from the configuration.
#pragma once

#include <memory>

#include "app/config.h"
#include "tls/client_policy.h"
#include "tls/partner.h"
#include "tls/server_context.h"
#include "util/error.h"

namespace mailmoat::app {

// The TLS settings of listener `index`; errors name the offending table.
util::Result<tls::ServerTlsConfig> listener_tls(const Config& cfg, std::size_t index);

util::Result<std::shared_ptr<const tls::PartnerConnectors>> partner_connectors(const Config& cfg);

// Outbound policies; every context is built once here so a bad file fails at start.
util::Result<std::shared_ptr<const tls::ClientPolicyTable>> outbound_tls_policies(const Config& cfg);

}  // namespace mailmoat::app
