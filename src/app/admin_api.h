// The admin API's queue routes (/api/v1/queue...), authenticated with a
// bearer token compared in constant time. The token lives in the data
// directory (admin.token, mode 0600), created at first start, so the local
// CLI can use it and nothing else can.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "http/router.h"
#include "util/error.h"

namespace mailmoat::queue {
class QueueManager;
}
namespace mailmoat::store {
class TraceStore;
}

namespace mailmoat::app {

// Reads data_dir/admin.token, creating it with a random value if missing.
util::Result<std::string> load_or_create_admin_token(const std::string& data_dir);
void add_queue_routes(http::Router& router, queue::QueueManager& queue, std::string token);
// GET /api/v1/trace?sender=&recipient=&since=&until=&status=&message_id=&client_ip=&direction=&limit=&cursor=
// and GET /api/v1/trace/ID (the whole timeline). Times are microseconds since the epoch.
void add_trace_routes(http::Router& router, store::TraceStore& trace, std::string token);
// For other admin routes (links_setup.cpp): the constant-time bearer check and query decoding.
std::function<bool(const http::Request&)> admin_bearer(std::string token);
std::string admin_url_decode(std::string_view s);

}  // namespace mailmoat::app
