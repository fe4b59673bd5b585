// The CLI side of the admin API: finds the running gateway's HTTP listener
// and admin token from its configuration, sends one request, and returns the
// JSON answer or one clear error line.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace mailmoat::app {

util::Result<nlohmann::json> admin_call(const std::string& config_path, const std::vector<std::string>& overrides,
                                        const std::string& method, const std::string& target,
                                        const std::string& body = {});

// Percent-encodes a query value (unreserved characters, '@' and '*' kept).
std::string query_escape(const std::string& s);
// "2026-11-28 10:00:00" (UTC) from microseconds since the epoch.
std::string utc_time(long long micros);

// The same, returning the body as sent (for downloads such as a quarantined .eml).
util::Result<std::string> admin_call_raw(const std::string& config_path, const std::vector<std::string>& overrides,
                                         const std::string& method, const std::string& target,
                                         const std::string& body = {});

}  // namespace mailmoat::app
