// What every admin API route shares: bearer-token checks in constant time,
// JSON error bodies, and query-string decoding that refuses what it does not
// know (an unknown parameter is a 400, never silently ignored).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/router.h"

namespace mailmoat::app {

std::function<bool(const http::Request&)> bearer(std::string token);
http::Response api_error(int status, const std::string& message);
std::string url_decode(std::string_view s);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; empty parts skipped.
std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query);

}  // namespace mailmoat::app
