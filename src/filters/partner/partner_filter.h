// The `partner_connector` filter (Domain Security): mail whose sender domain
// a partner connector covers must have arrived over a session meeting that
// connector's requirements, or it is refused with the connector's 4xx/5xx
// and the failed requirement in the trace. Mail that met a mutual-TLS
// connector gets `X-Mailmoat-Domain-Secured: <partner>` and the fact on
// TlsFacts; incoming copies of that header are always removed first, so only
// mailmoat can assert it. It runs first: a transport check needs no content.
#pragma once

#include <memory>
#include <mutex>

#include "pipeline/filter.h"
#include "tls/partner.h"

namespace mailmoat::filters {

inline constexpr const char* kDomainSecuredHeader = "X-Mailmoat-Domain-Secured";

class PartnerFilter : public pipeline::Filter {
 public:
  explicit PartnerFilter(std::shared_ptr<const tls::PartnerConnectors> connectors);
  std::string name() const override { return "partner_connector"; }
  void on_message(pipeline::MessageContext& context, Done done) override;
  // SIGHUP: connectors for the messages that start from now on.
  void reload(std::shared_ptr<const tls::PartnerConnectors> connectors);

 private:
  std::shared_ptr<const tls::PartnerConnectors> current() const;
  mutable std::mutex mu_;
  std::shared_ptr<const tls::PartnerConnectors> connectors_;
};

}  // namespace mailmoat::filters
