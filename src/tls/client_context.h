// OpenSSL client contexts for outbound STARTTLS and the check of the server
// certificate against a ClientPolicy (chain, RFC 6125 name, fingerprint).
// Contexts are built once per distinct policy and shared by deliveries.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "tls/client_policy.h"
#include "util/error.h"

namespace boost::asio::ssl {
class context;
}
typedef struct ssl_st SSL;

namespace mailmoat::tls {

class ClientContext {
 public:
  static util::Result<std::shared_ptr<ClientContext>> build(const ClientPolicy& policy);
  ~ClientContext();
  boost::asio::ssl::context& context() { return *context_; }

 private:
  ClientContext() = default;
  std::unique_ptr<boost::asio::ssl::context> context_;
};

// Contexts by policy key, built on first use.
class ClientContextCache {
 public:
  util::Result<std::shared_ptr<ClientContext>> get(const ClientPolicy& policy);

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<ClientContext>> contexts_;
};

struct ServerCheck {
  bool ok = false;
  std::string summary;  // "TLSv1.3 TLS_AES_256_GCM_SHA384, certificate CN=mx.example verified"
  std::string reason;   // why the policy is not met
  std::string failure_type;  // RFC 8460 §4.3 result type of the failure, for TLS-RPT
};

// After the handshake: does the session meet the policy? `mx_host` is the
// name the MX record gave; `domain` the recipient domain.
ServerCheck check_server(SSL* ssl, const ClientPolicy& policy, const std::string& mx_host, const std::string& domain);

// SHA-256 of the DER certificate as lowercase hex without separators.
std::string fingerprint_hex(const std::string& der);

}  // namespace mailmoat::tls
