#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/context.hpp>

#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include "tls/identity.h"

namespace mailmoat::tls {

namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all AEAD/FS.
constexpr const char* kCiphers12 = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                   "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                                   "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
constexpr const char* kCiphers13 = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
// Certificate chains a client may send: enough for any real chain, not for a memory attack.
constexpr long kMaxCertList = 64L * 1024;
constexpr unsigned char kSessionIdContext[] = "mailmoat-smtp";

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Opportunistic: the handshake never fails on the client certificate; the
// verification result stays on the session for the connector check.
int accept_any_client_certificate(int, X509_STORE_CTX*) { return 1; }

util::Result<std::unique_ptr<ssl::context>> make_context(const CertificateFiles& files,
                                                         const std::vector<std::string>& client_cas) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                  SSL_OP_SINGLE_ECDH_USE | SSL_OP_NO_TICKET);
  if (SSL_CTX_set_cipher_list(native, kCiphers12) != 1 || SSL_CTX_set_ciphersuites(native, kCiphers13) != 1 ||
      SSL_CTX_set1_groups_list(native, kGroups) != 1)
    return util::fail("cipher configuration: " + openssl_error());
  SSL_CTX_set_max_cert_list(native, kMaxCertList);
  SSL_CTX_set_session_id_context(native, kSessionIdContext, sizeof kSessionIdContext - 1);
  if (SSL_CTX_use_certificate_chain_file(native, files.cert.c_str()) != 1)
    return util::fail("certificate " + files.cert + ": " + openssl_error());
  if (SSL_CTX_use_PrivateKey_file(native, files.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return util::fail("private key " + files.key + ": " + openssl_error());
  if (SSL_CTX_check_private_key(native) != 1)
    return util::fail("private key " + files.key + " does not match " + files.cert + ": " + openssl_error());
  if (!client_cas.empty()) {
    STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
    for (const auto& ca : client_cas) {
      if (SSL_CTX_load_verify_locations(native, ca.c_str(), nullptr) != 1 ||
          SSL_add_file_cert_subjects_to_stack(names, ca.c_str()) != 1) {
        sk_X509_NAME_pop_free(names, X509_NAME_free);
        return util::fail("CA bundle " + ca + ": " + openssl_error());
      }
    }
    SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, accept_any_client_certificate);
    SSL_CTX_set_verify_depth(native, 8);
  }
  return ctx;
}

// The client asked for the certificate status (RFC 6066 §8): staple the
// response unless it went out of date since it was loaded.
int staple_ocsp(SSL* ssl, void* arg) {
  const auto* staple = static_cast<const std::string*>(arg);
  // The first 8 bytes hold nextUpdate (unix seconds, 0: none), the DER follows.
  std::int64_t next_update = 0;
  std::memcpy(&next_update, staple->data(), sizeof next_update);
  if (next_update != 0 && std::time(nullptr) > next_update) return SSL_TLSEXT_ERR_NOACK;
  const std::size_t len = staple->size() - sizeof next_update;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(len));
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  std::copy_n(reinterpret_cast<const unsigned char*>(staple->data()) + sizeof next_update, len, copy);
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(len));  // OpenSSL frees it
  return SSL_TLSEXT_ERR_OK;
}

// Reads and checks files.ocsp_file against the context's certificate: a
// successful response, from the leaf's issuer (which must be in the chain),
// saying "good", within its validity period. The result is the staple.
util::Result<std::unique_ptr<std::string>> read_staple(const CertificateFiles& files, SSL_CTX* native) {
  const std::string what = "OCSP response " + files.ocsp_file;
  std::ifstream in(files.ocsp_file, std::ios::binary);
  if (!in) return util::fail(what + ": cannot read the file");
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<OCSP_RESPONSE, decltype(&OCSP_RESPONSE_free)> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())),
                                                                     &OCSP_RESPONSE_free);
  if (!resp) return util::fail(what + ": not a DER OCSP response");
  if (int st = OCSP_response_status(resp.get()); st != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return util::fail(what + ": responder status " + OCSP_response_status_str(st));
  std::unique_ptr<OCSP_BASICRESP, decltype(&OCSP_BASICRESP_free)> basic(OCSP_response_get1_basic(resp.get()),
                                                                         &OCSP_BASICRESP_free);
  if (!basic) return util::fail(what + ": no basic response");
  X509* leaf = SSL_CTX_get0_certificate(native);
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(native, &chain);  // NOLINT(bugprone-multi-level-implicit-pointer-conversion): OpenSSL's macro
  X509* issuer = nullptr;
  for (int i = 0; chain && i < sk_X509_num(chain) && !issuer; ++i)
    if (X509_check_issued(sk_X509_value(chain, i), leaf) == X509_V_OK) issuer = sk_X509_value(chain, i);
  if (!issuer) return util::fail(what + ": the issuer of " + files.cert + " must follow it in that file to check the response");
  std::unique_ptr<OCSP_CERTID, decltype(&OCSP_CERTID_free)> id(OCSP_cert_to_id(nullptr, leaf, issuer), &OCSP_CERTID_free);
  int status = 0, reason = 0;
  ASN1_GENERALIZEDTIME *revoked = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (!id || OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked, &this_update, &next_update) != 1)
    return util::fail(what + ": does not cover " + files.cert);
  if (status != V_OCSP_CERTSTATUS_GOOD)
    return util::fail(what + ": says " + files.cert + " is " + OCSP_cert_status_str(status));
  if (OCSP_check_validity(this_update, next_update, 300, -1) != 1) {
    ERR_clear_error();
    return util::fail(what + ": out of date (outside thisUpdate..nextUpdate)");
  }
  std::int64_t next = 0;
  struct tm tm {};
  if (next_update && ASN1_TIME_to_tm(next_update, &tm) == 1) next = static_cast<std::int64_t>(timegm(&tm));
  auto staple = std::make_unique<std::string>(reinterpret_cast<const char*>(&next), sizeof next);
  staple->append(der);
  return staple;
}

}  // namespace

ServerContext::~ServerContext() = default;

util::Result<void> ServerContext::add_staple(const CertificateFiles& files, boost::asio::ssl::context& ctx) {
  if (files.ocsp_file.empty()) return {};
  auto staple = read_staple(files, ctx.native_handle());
  if (!staple) return std::unexpected(staple.error());
  SSL_CTX_set_tlsext_status_cb(ctx.native_handle(), &staple_ocsp);
  SSL_CTX_set_tlsext_status_arg(ctx.native_handle(), staple->get());
  staples_.push_back(std::move(*staple));
  return {};
}

util::Result<std::shared_ptr<ServerContext>> ServerContext::build(const ServerTlsConfig& config) {
  ERR_clear_error();
  std::shared_ptr<ServerContext> result(new ServerContext());
  auto main = make_context(config.certificate, config.client_ca_files);
  if (!main) return util::fail(main.error().message);
  result->main_ = std::move(*main);
  if (auto ok = result->add_staple(config.certificate, *result->main_); !ok) return std::unexpected(ok.error());
  for (const auto& alt : config.sni) {
    if (alt.names.empty()) return util::fail("certificate " + alt.cert + " for SNI names no server name");
    auto ctx = make_context(alt, config.client_ca_files);
    if (!ctx) return util::fail(ctx.error().message);
    if (auto ok = result->add_staple(alt, **ctx); !ok) return std::unexpected(ok.error());
    result->alternatives_.push_back(Alternative{alt.names, std::move(*ctx)});
  }
  if (!result->alternatives_.empty()) {
    SSL_CTX_set_tlsext_servername_callback(result->main_->native_handle(), &ServerContext::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(result->main_->native_handle(), result.get());
  }
  return result;
}

int ServerContext::on_server_name(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<ServerContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;
  for (const auto& alt : self->alternatives_) {
    for (const auto& pattern : alt.names) {
      if (name_matches(pattern, name)) {
        SSL_set_SSL_CTX(ssl, alt.context->native_handle());
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_OK;  // unknown name: the default certificate
}

namespace {
std::string der(X509* cert) {
  int len = i2d_X509(cert, nullptr);
  if (len <= 0) return {};
  std::string out(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  i2d_X509(cert, &p);
  return out;
}
}  // namespace

SessionFacts session_facts(SSL* ssl) {
  SessionFacts f;
  f.version = SSL_get_version(ssl);
  f.cipher = SSL_get_cipher_name(ssl);
  if (const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) f.server_name = sni;
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (!peer) return f;
  f.peer_presented = true;
  f.peer_subject = certificate_subject(peer);
  f.peer_names = certificate_names(peer);
  long result = SSL_get_verify_result(ssl);
  f.peer_verified = result == X509_V_OK;
  if (!f.peer_verified) f.verify_error = X509_verify_cert_error_string(result);
  f.peer_chain_der.push_back(der(peer));
  // On the server side the peer chain excludes the leaf (SSL_get_peer_cert_chain(3)).
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain) && i < 10; ++i) f.peer_chain_der.push_back(der(sk_X509_value(chain, i)));
  }
  return f;
}

}  // namespace mailmoat::tls
