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

}  // namespace mailmoat::app
