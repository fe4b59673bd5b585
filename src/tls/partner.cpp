#include "tls/partner.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "tls/identity.h"
#include "util/strings.h"

namespace mailmoat::tls {

namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr parse_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

// Verifies leaf + intermediates against the partner's bundle for TLS client use.
std::string verify_chain(X509_STORE* store, const std::vector<std::string>& chain_der) {
  X509Ptr leaf = parse_der(chain_der.front());
  if (!leaf) return "the client certificate cannot be parsed";
  std::vector<X509Ptr> owned;
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < chain_der.size(); ++i) {
    if (auto c = parse_der(chain_der[i])) {
      sk_X509_push(untrusted, c.get());
      owned.push_back(std::move(c));
    }
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  std::string error;
  if (!ctx || X509_STORE_CTX_init(ctx, store, leaf.get(), untrusted) != 1) {
    error = "cannot set up verification";
  } else {
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
    if (X509_verify_cert(ctx) != 1) error = X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  }
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  ERR_clear_error();
  return error;
}

}  // namespace

util::Result<PartnerConnector> PartnerConnector::load(PartnerConfig config) {
  PartnerConnector c;
  if (config.name.empty()) return util::fail("a partner connector needs a name");
  if (config.refusal_code < 400 || config.refusal_code > 599)
    return util::fail("partner " + config.name + ": refusal code must be 4xx or 5xx");
  if (config.refusal_status.empty() || config.refusal_status[0] != static_cast<char>('0' + config.refusal_code / 100))
    return util::fail("partner " + config.name + ": refusal status " + config.refusal_status +
                      " must have the class of code " + std::to_string(config.refusal_code));
  if (config.require_client_certificate) {
    if (config.ca_file.empty()) return util::fail("partner " + config.name + ": require_client_certificate needs ca_file");
    std::shared_ptr<X509_STORE> store(X509_STORE_new(), &X509_STORE_free);
    if (X509_STORE_load_file(store.get(), config.ca_file.c_str()) != 1) {
      ERR_clear_error();
      return util::fail("partner " + config.name + ": cannot load CA bundle " + config.ca_file);
    }
    c.store_ = std::move(store);
  }
  for (auto& d : config.sender_domains) d = util::to_lower(d);
  c.config_ = std::move(config);
  return c;
}

bool PartnerConnector::covers(std::string_view domain_in) const {
  std::string domain = util::to_lower(domain_in);
  for (const auto& d : config_.sender_domains) {
    if (d == domain) return true;
    if (d.starts_with("*.") && domain.size() > d.size() - 1 && domain.ends_with(std::string_view(d).substr(1)))
      return true;
  }
  return false;
}

PartnerCheck PartnerConnector::check(const PeerSession& s) const {
  auto fail = [](std::string requirement, std::string detail) { return PartnerCheck{false, std::move(requirement), std::move(detail)}; };
  if (!config_.client_networks.empty() && !util::any_contains(config_.client_networks, s.client_address))
    return fail("client_networks", "client address " + s.client_address + " is not in the partner's networks");
  if ((config_.require_tls || config_.require_client_certificate) && !s.tls)
    return fail("require_tls", "the session did not use TLS");
  if (!config_.require_client_certificate) return PartnerCheck{true, {}, {}};
  if (s.chain_der.empty()) return fail("require_client_certificate", "no client certificate was presented");
  if (auto err = verify_chain(store_.get(), s.chain_der); !err.empty())
    return fail("certificate_chain", "certificate validation failed: " + err);
  if (!config_.accepted_names.empty()) {
    X509Ptr leaf = parse_der(s.chain_der.front());
    auto names = certificate_names(leaf.get());
    if (!any_name_matches(names, config_.accepted_names))
      return fail("certificate_name", "certificate names " + join(names) + " match none of " + join(config_.accepted_names));
  }
  return PartnerCheck{true, {}, {}};
}

const PartnerConnector* PartnerConnectors::for_sender(std::string_view sender) const {
  auto at = sender.rfind('@');
  if (at == std::string_view::npos) return nullptr;
  std::string_view domain = sender.substr(at + 1);
  for (const auto& c : connectors_)
    if (c.covers(domain)) return &c;
  return nullptr;
}

}  // namespace mailmoat::tls
