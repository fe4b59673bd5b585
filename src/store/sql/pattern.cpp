#include "store/sql/pattern.h"

#include <algorithm>

#include "util/strings.h"

namespace mailmoat::store::sql {

std::string escape_like(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  return out;
}

std::string wildcard_to_like(std::string_view pattern) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    auto star = pattern.find('*', start);
    out += escape_like(pattern.substr(start, star == std::string_view::npos ? std::string_view::npos : star - start));
    if (star == std::string_view::npos) break;
    out += '%';
    start = star + 1;
  }
  return out;
}

std::string prefix_upper_bound(std::string_view prefix) {
  // U+10FFFF (F4 8F BF BF) sorts after every other UTF-8 sequence; a string that
  // starts with prefix and then exceeds it would have to start with U+10FFFF twice.
  return std::string(prefix) + "\xF4\x8F\xBF\xBF\xF4\x8F\xBF\xBF";
}

std::string reversed(std::string_view s) {
  // Reverses by UTF-8 character so the result stays valid UTF-8 (PostgreSQL checks).
  std::vector<std::string_view> chars;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = 1;
    auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0xF0) n = 4;
    else if (b >= 0xE0) n = 3;
    else if (b >= 0xC0) n = 2;
    n = std::min(n, s.size() - i);
    chars.push_back(s.substr(i, n));
    i += n;
  }
  std::string out;
  out.reserve(s.size());
  for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
  return out;
}

void add_wildcard_match(std::string& where, std::vector<Value>& params, std::string_view column,
                        std::string_view rev_column, std::string_view raw_pattern) {
  std::string pattern = util::to_lower(raw_pattern);
  std::string col(column), rev(rev_column);
  auto first = pattern.find('*');
  if (first == std::string::npos) {
    where += " AND " + col + " = ?";
    params.emplace_back(pattern);
    return;
  }
  std::string prefix = pattern.substr(0, first);
  std::string suffix = pattern.substr(pattern.rfind('*') + 1);
  if (!prefix.empty() && prefix.size() >= suffix.size()) {
    where += " AND " + col + " >= ? AND " + col + " < ?";
    params.emplace_back(prefix);
    params.emplace_back(prefix_upper_bound(prefix));
  } else if (!suffix.empty() && !rev.empty()) {
    std::string r = reversed(suffix);
    where += " AND " + rev + " >= ? AND " + rev + " < ?";
    params.emplace_back(r);
    params.emplace_back(prefix_upper_bound(r));
  }
  if (pattern.find_first_not_of('*') == std::string::npos) return;  // "*" matches everything
  where += " AND " + col + " LIKE ? ESCAPE '\\'";
  params.emplace_back(wildcard_to_like(pattern));
}

}  // namespace mailmoat::store::sql
