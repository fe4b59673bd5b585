#include "tls/dane.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace mailmoat::tls {

namespace {
const char* usage_name(unsigned usage) {
  switch (usage) {
    case 0: return "PKIX-TA";
    case 1: return "PKIX-EE";
    case 2: return "DANE-TA";
    case 3: return "DANE-EE";
    default: break;
  }
  return "unknown usage";
}

std::string hex(const std::string& data, std::size_t max_bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < data.size() && i < max_bytes; ++i) {
    out += digits[static_cast<unsigned char>(data[i]) >> 4];
    out += digits[static_cast<unsigned char>(data[i]) & 15];
  }
  if (data.size() > max_bytes) out += "...";
  return out;
}
}  // namespace

std::string tlsa_text(const dns::TlsaRecord& r, std::size_t max_bytes) {
  return std::to_string(r.usage) + " " + std::to_string(r.selector) + " " + std::to_string(r.matching_type) + " " +
         hex(r.data, max_bytes);
}

TlsaSet usable_tlsa(const std::vector<dns::TlsaRecord>& records) {
  TlsaSet set;
  for (const auto& r : records) {
    std::string why;
    if (r.usage == 0 || r.usage == 1) why = std::string(usage_name(r.usage)) + " is unusable for SMTP (RFC 7672 §3.1.3)";
    else if (r.usage > 3) why = "unknown certificate usage";
    else if (r.selector > 1) why = "unknown selector";
    else if (r.matching_type > 2) why = "unknown matching type";
    else if (r.matching_type == 1 && r.data.size() != 32) why = "SHA2-256 data is not 32 bytes";
    else if (r.matching_type == 2 && r.data.size() != 64) why = "SHA2-512 data is not 64 bytes";
    else if (r.data.empty()) why = "empty association data";
    if (why.empty()) set.usable.push_back(r);
    else set.ignored.push_back(tlsa_text(r) + ": " + why);
  }
  return set;
}

std::string arm_dane(SSL* ssl, const std::vector<dns::TlsaRecord>& records, const std::string& mx_host,
                     const std::string& alt_name) {
  ERR_clear_error();
  // The MX host name is the TLSA base domain and the reference identifier (RFC 7672 §3.2.2).
  if (SSL_dane_enable(ssl, mx_host.c_str()) <= 0) return "cannot enable DANE on the session";
  if (!alt_name.empty() && SSL_add1_host(ssl, alt_name.c_str()) != 1) return "cannot add " + alt_name + " as a DANE name";
  // RFC 7672 §3.1.1: a DANE-EE match authenticates the key; names are not checked.
  SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
  int added = 0;
  for (const auto& r : records) {
    int rc = SSL_dane_tlsa_add(ssl, r.usage, r.selector, r.matching_type,
                               reinterpret_cast<const unsigned char*>(r.data.data()), r.data.size());
    if (rc > 0) ++added;
  }
  ERR_clear_error();
  if (added == 0) return "none of the TLSA records could be loaded";
  return {};
}

DaneCheck check_dane(SSL* ssl) {
  DaneCheck c;
  long verify = SSL_get_verify_result(ssl);
  uint8_t usage = 0, selector = 0, mtype = 0;
  const unsigned char* data = nullptr;
  size_t dlen = 0;
  int depth = SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data, &dlen);
  if (verify != X509_V_OK || depth < 0) {
    c.detail = std::string("no TLSA record matched the server's certificate chain: ") +
               (verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "no match");
    return c;
  }
  c.ok = true;
  dns::TlsaRecord r{usage, selector, mtype, std::string(reinterpret_cast<const char*>(data), dlen)};
  c.detail = std::string(usage_name(usage)) + " " + tlsa_text(r) + " matched at depth " + std::to_string(depth);
  return c;
}

}  // namespace mailmoat::tls
