#include "filters/partner/partner_filter.h"

namespace mailmoat::filters {

PartnerFilter::PartnerFilter(std::shared_ptr<const tls::PartnerConnectors> connectors)
    : connectors_(std::move(connectors)) {}

void PartnerFilter::reload(std::shared_ptr<const tls::PartnerConnectors> connectors) {
  std::lock_guard lock(mu_);
  connectors_ = std::move(connectors);
}

std::shared_ptr<const tls::PartnerConnectors> PartnerFilter::current() const {
  std::lock_guard lock(mu_);
  return connectors_;
}

void PartnerFilter::on_message(pipeline::MessageContext& ctx, Done done) {
  // Only mailmoat may say a message is domain-secured: drop whatever arrived.
  ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::remove, kDomainSecuredHeader, {}});
  auto connectors = current();
  const tls::PartnerConnector* partner = connectors ? connectors->for_sender(ctx.envelope.sender) : nullptr;
  if (!partner) {
    done(pipeline::Verdict::accept());
    return;
  }
  const auto& cfg = partner->config();
  tls::PeerSession session;
  session.tls = ctx.connection.tls.active;
  session.chain_der = ctx.connection.tls.peer_chain_der;
  session.client_address = ctx.connection.client_address;
  tls::PartnerCheck check = partner->check(session);
  ctx.connection.tls.connector = cfg.name;
  if (!check.ok) {
    pipeline::Verdict v;
    v.disposition = cfg.refusal_code >= 500 ? pipeline::Disposition::reject : pipeline::Disposition::tempfail;
    v.code = cfg.refusal_code;
    v.enhanced = cfg.refusal_status;
    v.text = "TLS requirement of partner connector " + cfg.name + " not met: " + check.detail;
    v.filter = name();
    v.reason = "partner " + cfg.name + ": " + check.requirement + " failed: " + check.detail;
    ctx.notes.push_back({name(), "requirement_failed", v.reason});
    done(std::move(v));
    return;
  }
  if (partner->mutual()) {
    ctx.connection.tls.domain_secured = true;
    ctx.edits.headers.push_back({pipeline::HeaderEdit::Op::prepend, kDomainSecuredHeader, cfg.name});
    ctx.notes.push_back({name(), "domain_secured", "partner " + cfg.name + ": mutual TLS, certificate " +
                                                       ctx.connection.tls.peer_subject});
  } else {
    ctx.notes.push_back({name(), "connector_met", "partner " + cfg.name + ": requirements met"});
  }
  done(pipeline::Verdict::accept());
}

}  // namespace mailmoat::filters
