// Read routes the admin console needs beyond the trace search:
//   GET /api/v1/events?kind=authentication|attachment&since=&until=&limit=  (viewer)
// authentication results and attachment verdicts across messages, newest first,
// for the dashboard's pass rates and the Attachments page.
#pragma once

#include "app/api_auth.h"
#include "http/router.h"

namespace mailmoat::store {
class TraceStore;
}

namespace mailmoat::app {

void add_console_read_routes(http::Router& router, store::TraceStore& trace, const ApiAuth& auth);

}  // namespace mailmoat::app
