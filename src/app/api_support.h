// What every admin API route shares: JSON error bodies, and query-string
// decoding for handlers that refuse what they do not know (an unknown
// parameter is a 400, never silently ignored).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/router.h"

namespace mailmoat::app {

http::Response api_error(int status, const std::string& message);
std::string url_decode(std::string_view s);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; empty parts skipped.
std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query);

}  // namespace mailmoat::app
