// The OpenSSL context of an SMTP listener (RFC 3207 STARTTLS): TLS 1.2 and
// 1.3 only, forward-secret AEAD ciphers, no compression, no renegotiation,
// bounded certificate chains; a default certificate plus more selected by
// the client's SNI name. When partner connectors exist, a client certificate
// is requested (never required here: opportunistic TLS never blocks mail);
// its verification against the partners' CAs is recorded, and judged later
// by the partner-connector filter that knows the sender domain. An OCSP
// response file per certificate is checked (successful, covers the leaf) and
// stapled when the client asks; SIGHUP rebuilds the context, re-reading it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/error.h"

namespace boost::asio::ssl {
class context;
}
typedef struct ssl_st SSL;

namespace mailmoat::tls {

struct CertificateFiles {
  std::string cert;                // PEM chain, leaf first
  std::string key;                 // PEM private key
  std::vector<std::string> names;  // SNI names served with it (wildcards allowed); empty for the default
  std::string ocsp_file;           // DER OCSP response for cert, stapled when asked (RFC 6066 §8); empty: none
};

struct ServerTlsConfig {
  CertificateFiles certificate;  // the default; an empty cert means no STARTTLS
  std::vector<CertificateFiles> sni;
  std::vector<std::string> client_ca_files;  // non-empty: request client certificates, verify against these
  bool enabled() const { return !certificate.cert.empty(); }
};

class ServerContext {
 public:
  static util::Result<std::shared_ptr<ServerContext>> build(const ServerTlsConfig& config);
  ~ServerContext();
  boost::asio::ssl::context& context() { return *main_; }

 private:
  ServerContext() = default;
  struct Alternative {
    std::vector<std::string> names;
    std::unique_ptr<boost::asio::ssl::context> context;
  };
  static int on_server_name(SSL* ssl, int* alert, void* arg);
  util::Result<void> add_staple(const CertificateFiles& files, boost::asio::ssl::context& ctx);
  std::unique_ptr<boost::asio::ssl::context> main_;
  std::vector<Alternative> alternatives_;
  // OCSP responses (DER) the contexts' status callbacks point at; read when the context is built.
  std::vector<std::unique_ptr<std::string>> staples_;
};

// What a finished handshake established, for the session, Received and trace.
struct SessionFacts {
  std::string version;  // "TLSv1.3"
  std::string cipher;
  std::string server_name;  // SNI the client asked for
  std::string peer_subject;
  std::vector<std::string> peer_names;
  bool peer_presented = false;
  bool peer_verified = false;
  std::string verify_error;  // OpenSSL's reason when presented and not verified
  std::vector<std::string> peer_chain_der;  // leaf first
};
SessionFacts session_facts(SSL* ssl);

}  // namespace mailmoat::tls
