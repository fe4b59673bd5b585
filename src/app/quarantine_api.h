// The admin API's quarantine routes (ApiAuth: bearer tokens with roles):
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
class ApiAuth;

// Viewers list and show; admins download, release and delete.
void add_quarantine_routes(http::Router& router, QuarantineService& quarantine, const ApiAuth& auth);

}  // namespace mailmoat::app
