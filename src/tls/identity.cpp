#include "tls/identity.h"

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "util/strings.h"

namespace mailmoat::tls {

namespace {

std::string normalise(std::string_view name) {
  std::string out = util::to_lower(name);
  if (!out.empty() && out.back() == '.') out.pop_back();  // absolute form
  return out;
}

bool valid_wildcard(std::string_view name) {
  // "*.a.b": the wildcard stands alone in the left-most label and at least two labels follow.
  if (!name.starts_with("*.")) return false;
  std::string_view rest = name.substr(2);
  return rest.find('*') == std::string_view::npos && rest.find('.') != std::string_view::npos;
}

// `pattern` is "*.rest"; `host` is a literal name: one label, then exactly rest.
bool wildcard_covers(std::string_view pattern, std::string_view host) {
  std::string_view rest = pattern.substr(1);  // ".rest"
  if (host.size() <= rest.size() || !host.ends_with(rest)) return false;
  std::string_view label = host.substr(0, host.size() - rest.size());
  return !label.empty() && label.find('.') == std::string_view::npos && label.find('*') == std::string_view::npos;
}

}  // namespace

bool name_matches(std::string_view presented_in, std::string_view reference_in) {
  const std::string presented = normalise(presented_in);
  const std::string reference = normalise(reference_in);
  if (presented.empty() || reference.empty()) return false;
  const bool p_wild = presented.find('*') != std::string::npos;
  const bool r_wild = reference.find('*') != std::string::npos;
  if (p_wild && !valid_wildcard(presented)) return false;
  if (r_wild && !valid_wildcard(reference)) return false;
  if (p_wild && r_wild) return presented == reference;
  if (p_wild) return wildcard_covers(presented, reference);
  if (r_wild) return wildcard_covers(reference, presented);
  return presented == reference;
}

bool any_name_matches(const std::vector<std::string>& presented, const std::vector<std::string>& references) {
  for (const auto& p : presented)
    for (const auto& r : references)
      if (name_matches(p, r)) return true;
  return false;
}

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> names;
  if (!cert) return names;
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans, i);
      if (gn->type != GEN_DNS) continue;
      const ASN1_IA5STRING* s = gn->d.dNSName;
      std::string_view v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
      if (v.find('\0') == std::string_view::npos) names.emplace_back(v);  // embedded NUL: a forgery attempt
    }
    GENERAL_NAMES_free(sans);
  }
  if (!names.empty()) return names;
  X509_NAME* subject = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, cn);
    if (len > 0) {
      std::string v(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(len));
      if (v.find('\0') == std::string::npos) names.push_back(std::move(v));
    }
    OPENSSL_free(utf8);
  }
  return names;
}

std::string certificate_subject(X509* cert) {
  if (!cert) return {};
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

}  // namespace mailmoat::tls
