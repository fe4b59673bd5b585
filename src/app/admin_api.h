// The admin API's queue, trace and audit routes, behind ApiAuth (viewers
// read, admins act). The bootstrap token lives in the data directory
// (admin.token, mode 0600), created at first start, so the local CLI can use
// it and nothing else can.
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
class AuditLog;
}

namespace mailmoat::app {

class ApiAuth;

// Reads data_dir/admin.token, creating it with a random value if missing.
util::Result<std::string> load_or_create_admin_token(const std::string& data_dir);
// Queue actions (hold, release, delete, retry) are written to `audit`.
void add_queue_routes(http::Router& router, queue::QueueManager& queue, const ApiAuth& auth);
// GET /api/v1/trace?sender=&recipient=&since=&until=&status=&message_id=&client_ip=&direction=&limit=&cursor=
// and GET /api/v1/trace/ID (the whole timeline). Times are microseconds since the epoch.
void add_trace_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth);

// GET /api/v1/stats?since=&until= : messages per hour, direction and status (default: the last 24 hours).
void add_stats_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth);
// GET /api/v1/audit?since=&limit= : what administrators did, newest first.
void add_audit_routes(http::Router& router, store::AuditLog& audit, const ApiAuth& auth);

}  // namespace mailmoat::app
