#include "tls/client_context.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>

#include "tls/dane.h"
#include "tls/identity.h"
#include "util/strings.h"

namespace mailmoat::tls {

namespace ssl = boost::asio::ssl;

namespace {
std::string openssl_error() {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown OpenSSL error";
  if (e) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

std::string normalise_fingerprint(std::string_view f) {
  std::string out;
  for (char c : f)
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.starts_with("sha256")) out = out.substr(6);
  return out;
}

std::string der_of(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_X509(cert, &p);
  return out;
}
}  // namespace

ClientContext::~ClientContext() = default;

util::Result<std::shared_ptr<ClientContext>> ClientContext::build(const ClientPolicy& policy) {
  ERR_clear_error();
  std::shared_ptr<ClientContext> c(new ClientContext());
  c->context_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = c->context_->native_handle();
  // Opportunistic levels accept what the server offers (RFC 7435); TLS 1.0 is
  // still better than clear text there. Required levels insist on TLS 1.2+.
  SSL_CTX_set_min_proto_version(native, requires_tls(policy.level) ? TLS1_2_VERSION : TLS1_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // The verdict is ours (check_server), made after the handshake with the policy in hand.
  SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  // DANE levels: the trust anchors are the TLSA records, armed per session (tls/dane.h).
  if (uses_dane(policy.level)) {
    if (SSL_CTX_dane_enable(native) <= 0) return util::fail("cannot enable DANE: " + openssl_error());
  } else if (authenticates(policy.level)) {
    int loaded = policy.ca_file.empty() ? SSL_CTX_set_default_verify_paths(native)
                                        : SSL_CTX_load_verify_locations(native, policy.ca_file.c_str(), nullptr);
    if (loaded != 1) return util::fail("CA bundle " + policy.ca_file + ": " + openssl_error());
  }
  if (!policy.client_cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(native, policy.client_cert.c_str()) != 1)
      return util::fail("client certificate " + policy.client_cert + ": " + openssl_error());
    if (SSL_CTX_use_PrivateKey_file(native, policy.client_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(native) != 1)
      return util::fail("client key " + policy.client_key + ": " + openssl_error());
  }
  return c;
}

util::Result<std::shared_ptr<ClientContext>> ClientContextCache::get(const ClientPolicy& policy) {
  std::lock_guard lock(mu_);
  const std::string key = policy.key();
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;
  auto built = ClientContext::build(policy);
  if (!built) return built;
  contexts_[key] = *built;
  return built;
}

std::string fingerprint_hex(const std::string& der) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(der.data(), der.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

ServerCheck check_server(SSL* ssl, const ClientPolicy& policy, const std::string& mx_host, const std::string& domain) {
  ServerCheck r;
  r.summary = std::string(SSL_get_version(ssl)) + " " + SSL_get_cipher_name(ssl);
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer) r.summary += ", certificate " + certificate_subject(peer);
  if (!authenticates(policy.level)) {
    r.ok = true;
    return r;
  }
  r.failure_type = "certificate-not-trusted";
  if (!peer) {
    r.reason = "the server presented no certificate";
    return r;
  }
  if (uses_dane(policy.level)) {
    DaneCheck dane = check_dane(ssl);
    if (!dane.ok) {
      r.reason = dane.detail;
      r.failure_type = "validation-failure";
      return r;
    }
    r.ok = true;
    r.summary += " (" + dane.detail + ")";
    return r;
  }
  if (policy.level == Level::fingerprint) {
    const std::string actual = fingerprint_hex(der_of(peer));
    for (const auto& f : policy.fingerprints)
      if (normalise_fingerprint(f) == actual) {
        r.ok = true;
        r.summary += " (fingerprint matched)";
        return r;
      }
    r.reason = "certificate fingerprint sha256:" + actual + " is not listed";
    return r;
  }
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    if (verify == X509_V_ERR_CERT_HAS_EXPIRED) r.failure_type = "certificate-expired";
    r.reason = std::string("certificate validation failed: ") + X509_verify_cert_error_string(verify);
    return r;
  }
  std::vector<std::string> references = policy.match_names;
  if (references.empty()) {
    if (policy.level == Level::verify) references = {mx_host};
    else references = {domain, "*." + domain};
  }
  const auto names = certificate_names(peer);
  if (!any_name_matches(names, references)) {
    std::string presented, wanted;
    for (const auto& n : names) presented += (presented.empty() ? "" : ", ") + n;
    for (const auto& n : references) wanted += (wanted.empty() ? "" : ", ") + n;
    r.reason = "certificate names (" + presented + ") match none of " + wanted;
    r.failure_type = "certificate-host-mismatch";
    return r;
  }
  r.ok = true;
  r.failure_type.clear();
  r.summary += " verified";
  return r;
}

}  // namespace mailmoat::tls
