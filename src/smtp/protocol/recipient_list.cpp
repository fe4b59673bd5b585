#include "smtp/protocol/recipient_list.h"

#include "util/strings.h"

namespace mailmoat::smtp {

util::Result<RecipientList> RecipientList::parse(std::string_view text) {
  RecipientList list;
  int line_no = 0;
  for (auto raw : util::split(text, '\n')) {
    ++line_no;
    auto line = util::trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    auto at = line.rfind('@');
    if (at == std::string_view::npos || at + 1 == line.size() || line.find_first_of(" \t<>") != std::string_view::npos)
      return util::fail(std::to_string(line_no) + ": \"" + std::string(line) + "\" is not an address or @domain");
    if (at == 0)
      list.domains_.insert(util::to_lower(line.substr(1)));
    else
      list.addresses_.insert(util::to_lower(line));
  }
  return list;
}

bool RecipientList::contains(std::string_view address) const {
  std::string a = util::to_lower(address);
  if (addresses_.count(a)) return true;
  auto at = a.rfind('@');
  return at != std::string::npos && domains_.count(a.substr(at + 1)) > 0;
}

}  // namespace mailmoat::smtp
