// Sender lists of the connection filter and the SMTP server: an entry with
// '@' is one address, any other entry a domain with all its subdomains
// ("example.com" lists a@example.com and a@mx.example.com). Entries are lower case.
#pragma once

#include <string>
#include <vector>

#include "util/strings.h"

namespace mailmoat::util {

inline bool sender_listed(const std::string& sender, const std::vector<std::string>& list) {
  std::string s = to_lower(sender);
  std::size_t at = s.rfind('@');
  std::string domain = at == std::string::npos ? std::string() : s.substr(at + 1);
  for (const auto& e : list) {
    if (e.find('@') != std::string::npos) {
      if (s == e) return true;
    } else if (!domain.empty() && (domain == e || (domain.size() > e.size() && domain.ends_with("." + e)))) {
      return true;
    }
  }
  return false;
}

}  // namespace mailmoat::util
