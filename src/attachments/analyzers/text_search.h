// Small ASCII helpers shared by the analyzers (case folding, suffix test).
#pragma once

#include <string>
#include <string_view>

namespace mailmoat::attachments {

inline std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

inline bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace mailmoat::attachments
