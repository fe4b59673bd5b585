// Valid recipients of the inbound role (like Postfix's relay_recipient_maps):
// one address per line, "@domain" for every address of a domain, "#" comments.
// Addresses compare case-insensitively. Loaded from a file the admin keeps.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>

#include "util/error.h"

namespace mailmoat::smtp {

class RecipientList {
 public:
  // Fails with "LINE: reason" on a line that is not an address or "@domain".
  static util::Result<RecipientList> parse(std::string_view text);
  bool contains(std::string_view address) const;
  std::size_t size() const { return addresses_.size() + domains_.size(); }

 private:
  std::unordered_set<std::string> addresses_;
  std::unordered_set<std::string> domains_;
};

}  // namespace mailmoat::smtp
