#include "links/policy.h"

#include "util/strings.h"

namespace mailmoat::links {

bool host_matches(std::string_view pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    std::string_view suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() && util::iequals(host.substr(host.size() - suffix.size()), suffix);
  }
  return util::iequals(pattern, host);
}

bool covers_recipient(const LinkPolicy& policy, std::string_view address) {
  if (policy.recipients.empty()) return true;
  std::size_t at = address.rfind('@');
  std::string_view domain = at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
  for (const auto& r : policy.recipients) {
    if (r.find('@') != std::string::npos ? util::iequals(r, address) : host_matches(r, domain)) return true;
  }
  return false;
}

bool in_do_not_rewrite(const LinkPolicy& policy, std::string_view url, const UrlParts& parts) {
  for (const auto& entry : policy.do_not_rewrite) {
    if (entry.find("://") != std::string::npos) {
      if (util::istarts_with(url, entry)) return true;
    } else if (host_matches(entry, parts.host)) {
      return true;
    }
  }
  return false;
}

const LinkPolicy& policy_for(const std::vector<LinkPolicy>& policies, std::string_view address,
                             const LinkPolicy& fallback) {
  const LinkPolicy* best = nullptr;
  for (const auto& p : policies)
    if (covers_recipient(p, address) && (best == nullptr || p.priority < best->priority)) best = &p;
  return best ? *best : fallback;
}

}  // namespace mailmoat::links
