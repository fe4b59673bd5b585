// The admin API's quarantine routes, bearer-token authenticated:
//   GET  /api/v1/quarantine?state=&reason=&sender=&recipient=&since=&until=&limit=&cursor=
//   GET  /api/v1/quarantine/ID            the item (no message bytes)
//   GET  /api/v1/quarantine/ID/message    the message as received (.eml download; audited)
//   POST /api/v1/quarantine/ID/release    {"to": ["addr", ...]} (optional: all recipients)
//   POST /api/v1/quarantine/ID/delete
#pragma once

#include <string>

#include "http/router.h"

namespace mailmoat::app {

class QuarantineService;

void add_quarantine_routes(http::Router& router, QuarantineService& quarantine, std::string token);

}  // namespace mailmoat::app
