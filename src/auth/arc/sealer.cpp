#include "auth/arc/sealer.h"

#include "auth/dkim/canonicalization.h"
#include "auth/dkim/field_format.h"
#include "auth/dkim/header_hash.h"
#include "auth/dkim/signer.h"
#include "util/strings.h"

namespace mailmoat::auth::arc {
namespace {

std::string alg_name(const dkim::PrivateKey& k) {
  return std::string(dkim::algorithm_name(k.type == dkim::KeyType::rsa ? dkim::Algorithm::rsa_sha256
                                                                       : dkim::Algorithm::ed25519_sha256));
}

std::string without_crlf(std::string_view s) { return std::string(s.substr(0, s.size() - 2)); }

}  // namespace

SealerBuilder::SealerBuilder(std::string domain, std::string selector, dkim::PrivateKey key) {
  s_.domain_ = std::move(domain);
  util::to_lower_in_place(s_.domain_);
  s_.selector_ = std::move(selector);
  s_.key_ = std::move(key);
}

SealerBuilder& SealerBuilder::headers(std::vector<std::string> names) {
  s_.headers_ = std::move(names);
  return *this;
}

util::Result<Sealer> SealerBuilder::build() const {
  if (!dkim::is_valid_domain(s_.domain_)) return util::fail("invalid sealing domain");
  if (s_.selector_.empty() || s_.selector_.find_first_of("; \t\r\n=") != std::string::npos)
    return util::fail("invalid selector");
  if (!s_.key_.key) return util::fail("no private key");
  if (s_.key_.type == dkim::KeyType::rsa && s_.key_.bits < 1024)
    return util::fail("RSA keys under 1024 bits are not usable (RFC 8301)");
  if (s_.headers_)
    for (const auto& h : *s_.headers_)
      if (h.empty() || util::iequals(h, "ARC-Seal") || h.find_first_of(": \t\r\n;") != std::string::npos)
        return util::fail("invalid AMS header name \"" + h + "\"");
  return s_;
}

util::Result<std::optional<SealedSet>> Sealer::seal(const mail::Message& message, std::string_view authres_payload,
                                                    ChainValidation cv, std::int64_t now) const {
  auto sets = collect_sets(message);
  if (!sets) return std::optional<SealedSet>{};  // malformed chain: no instance number to continue
  int n = static_cast<int>(sets->size());
  if (n > 0) {
    auto newest = parse_seal(sets->back().seal->value);
    if (newest && newest->cv == ChainValidation::fail) return std::optional<SealedSet>{};  // chain already failed
  }
  if (n >= kMaxInstances) return std::optional<SealedSet>{};
  if (n == 0) cv = ChainValidation::none;
  SealedSet out;
  out.instance = n + 1;
  std::string i = std::to_string(out.instance);
  out.aar = "ARC-Authentication-Results: i=" + i + "; " + std::string(util::trim(authres_payload)) + "\r\n";

  std::vector<std::string> h;
  if (headers_) {
    h = *headers_;
  } else {
    for (const auto& name : dkim::default_signed_headers())
      for (std::size_t k = message.count(name); k > 0; --k) h.push_back(util::to_lower(name));
  }
  dkim::BodyHasher body(dkim::Canon::relaxed, std::nullopt);
  body.update(message.body());
  std::string joined;
  for (const auto& name : h) joined += (joined.empty() ? "" : ":") + name;
  dkim::TagValues ams{{"a", alg_name(key_)}, {"b", ""}, {"bh", dkim::base64_encode(body.finish())},
                      {"c", "relaxed/relaxed"}, {"d", domain_}, {"h", joined}, {"i", i}, {"s", selector_},
                      {"t", std::to_string(now)}};
  std::string ams_blank = dkim::format_field_in_order("ARC-Message-Signature", ams, "");
  auto ams_sig = dkim::sign_data(key_, dkim::signed_header_data(message, h, dkim::Canon::relaxed, ams_blank));
  if (!ams_sig) return std::unexpected(ams_sig.error());
  out.ams = dkim::format_field_in_order("ARC-Message-Signature", ams, dkim::base64_encode(*ams_sig)) + "\r\n";

  // The seal covers every earlier set and then this one (RFC 8617 5.1.1);
  // sealing a failed chain (cv=fail), it covers only its own set (5.1.2).
  std::string data;
  if (cv != ChainValidation::fail)
    for (const auto& s : *sets)
      for (const auto* f : {s.aar, s.ams, s.seal}) data += dkim::canonicalize_header(f->raw, dkim::Canon::relaxed);
  data += dkim::canonicalize_header(without_crlf(out.aar), dkim::Canon::relaxed);
  data += dkim::canonicalize_header(without_crlf(out.ams), dkim::Canon::relaxed);
  dkim::TagValues as{{"a", alg_name(key_)}, {"b", ""}, {"cv", std::string(cv_name(cv))}, {"d", domain_},
                     {"i", i}, {"s", selector_}, {"t", std::to_string(now)}};
  data += without_crlf(dkim::canonicalize_header(dkim::format_field_in_order("ARC-Seal", as, ""), dkim::Canon::relaxed));
  auto as_sig = dkim::sign_data(key_, data);
  if (!as_sig) return std::unexpected(as_sig.error());
  out.seal = dkim::format_field_in_order("ARC-Seal", as, dkim::base64_encode(*as_sig)) + "\r\n";
  return std::optional<SealedSet>{std::move(out)};
}

std::optional<std::string> results_for(const mail::Message& message, std::string_view authserv_id) {
  std::string merged;
  bool found = false;
  for (const auto* f : message.find_all("Authentication-Results")) {
    std::string_view v = util::trim(f->value);
    std::size_t semi = v.find(';');
    std::string_view id = util::trim(v.substr(0, semi));
    // authserv-id may be followed by a version number (RFC 8601 2.2).
    if (std::size_t sp = id.find_first_of(" \t"); sp != std::string_view::npos) id = id.substr(0, sp);
    if (!util::iequals(id, authserv_id)) continue;
    found = true;
    if (semi != std::string_view::npos) {
      std::string_view results = util::trim(v.substr(semi + 1));
      if (!results.empty()) merged += (merged.empty() ? "" : ";\r\n ") + std::string(results);
    }
  }
  if (!found) return std::nullopt;
  return std::string(authserv_id) + (merged.empty() ? "; none" : "; " + merged);
}

}  // namespace mailmoat::auth::arc
