// Read routes the admin console needs beyond the trace search:
//   GET /api/v1/events?kind=authentication|attachment&since=&until=&limit=  (viewer)
// authentication results and attachment verdicts across messages, newest first,
// for the dashboard's pass rates and the Attachments page.
//   GET /api/v1/policies  (viewer)
// the effective configuration of rules, verdict, connection filtering, TLS and
// partner connectors, Safe Links and Safe Attachments (secrets hidden, as
// `config show`), and the rules file as it is on disk, for the Policies page.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "app/api_auth.h"
#include "http/router.h"

namespace mailmoat::store {
class TraceStore;
}

namespace mailmoat::app {

struct Config;

void add_console_read_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth);
void add_policy_read_routes(http::Router& router, const Config& config, const ApiAuth& auth);
// The effective configuration split into sections; only those whose top-level
// name is in `wanted` ("links" keeps [links] and [[links.policy]]).
std::vector<std::pair<std::string, std::string>> config_sections(const std::string& toml,
                                                                 const std::vector<std::string>& wanted);

}  // namespace mailmoat::app
