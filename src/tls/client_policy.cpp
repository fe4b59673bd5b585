#include "tls/client_policy.h"

#include "util/strings.h"

namespace mailmoat::tls {

namespace {
constexpr std::pair<Level, const char*> kLevels[] = {{Level::none, "none"},       {Level::may, "may"},
                                                     {Level::encrypt, "encrypt"}, {Level::verify, "verify"},
                                                     {Level::secure, "secure"},   {Level::fingerprint, "fingerprint"},
                                                     {Level::dane, "dane"},       {Level::dane_only, "dane-only"}};

bool domain_listed(const std::vector<std::string>& domains, const std::string& domain) {
  for (const auto& d : domains) {
    std::string pattern = util::to_lower(d);
    if (pattern == domain) return true;
    if (pattern.starts_with("*.") && domain.size() > pattern.size() - 1 && domain.ends_with(pattern.substr(1))) return true;
  }
  return false;
}
}  // namespace

std::optional<Level> parse_level(std::string_view text) {
  for (const auto& [level, name] : kLevels)
    if (text == name) return level;
  return std::nullopt;
}

const char* level_name(Level level) {
  for (const auto& [l, name] : kLevels)
    if (l == level) return name;
  return "may";
}

std::string ClientPolicy::key() const {
  std::string k = level_name(level);
  for (const auto& n : match_names) k += "|n:" + n;
  for (const auto& f : fingerprints) k += "|f:" + f;
  return k + "|ca:" + ca_file + "|cert:" + client_cert;
}

ClientPolicy ClientPolicyTable::for_domain(std::string_view domain_in, bool requiretls) const {
  const std::string domain = util::to_lower(domain_in);
  ClientPolicy p = default_;
  for (const auto& e : entries_)
    if (domain_listed(e.domains, domain)) {
      p = e.policy;
      break;
    }
  if (requiretls && !authenticates(p.level)) {
    p.level = Level::verify;
    p.origin += " raised to verify by REQUIRETLS";
  }
  return p;
}

}  // namespace mailmoat::tls
