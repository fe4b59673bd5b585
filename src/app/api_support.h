// What every admin API route shares: JSON error bodies, and query-string
// decoding for handlers that refuse what they do not know (an unknown
// parameter is a 400, never silently ignored).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <algorithm>
#include <optional>

#include "http/router.h"
#include "util/strings.h"

namespace mailmoat::app {

http::Response api_error(int status, const std::string& message);
std::string url_decode(std::string_view s);
// "a=1&b=x%20y" -> {{"a","1"},{"b","x y"}}; empty parts skipped.
std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query);

// The time window and page size every search route takes: since and until
// (microseconds since the epoch) and limit (at most 1000).
bool is_window_key(std::string_view key);
template <class Query>
std::optional<http::Response> apply_window(const std::string& key, const std::string& value, Query& q) {
  auto n = util::parse_uint(value);
  if (!n) return api_error(400, key + " must be a non-negative integer");
  if (key == "since") {
    q.since = static_cast<std::int64_t>(*n);
  } else if (key == "until") {
    if constexpr (requires { q.until; }) q.until = static_cast<std::int64_t>(*n);
    else return api_error(400, "unknown parameter \"until\"");
  } else {
    q.limit = std::min<std::size_t>(*n, 1000);
  }
  return std::nullopt;
}

}  // namespace mailmoat::app
