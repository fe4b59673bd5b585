// Turns a user's `*` wildcard pattern into a condition an index can serve:
// the literal text before the first `*` becomes a range on the lower-cased
// column, the literal text after the last `*` a range on the reversed column
// (so "*@example.com" is as fast as "alice@*"), and the whole pattern a LIKE
// with % and _ and the escape character escaped. Everything is a bound value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/sql/connection.h"

namespace mailmoat::store::sql {

// Escapes \, % and _ for LIKE ... ESCAPE '\'.
std::string escape_like(std::string_view literal);
// "a*b" -> "a%b" with the literal pieces escaped; input already lower-cased.
std::string wildcard_to_like(std::string_view pattern);
// Smallest string greater than every string that starts with `prefix`
// (byte order; valid UTF-8 in, valid UTF-8 out).
std::string prefix_upper_bound(std::string_view prefix);
std::string reversed(std::string_view s);

// Appends " AND ..." conditions for matching `pattern` against `column` (which
// holds lower-cased text) and `rev_column` (its reverse; may be empty when the
// table has none) to `where`, and the values to `params`.
void add_wildcard_match(std::string& where, std::vector<Value>& params, std::string_view column,
                        std::string_view rev_column, std::string_view pattern);

}  // namespace mailmoat::store::sql
