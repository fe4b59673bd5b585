// The admin API's quarantine routes (ApiAuth: bearer tokens with roles):
//   GET  /api/v1/quarantine?state=&reason=&sender=&recipient=&since=&until=&limit=&cursor=
//   GET  /api/v1/quarantine/ID            the item (no message bytes)
//   GET  /api/v1/quarantine/ID/message    the message as received (.eml download; audited)
//   POST /api/v1/quarantine/ID/release    {"to": ["addr", ...]} (optional: all recipients)
//   POST /api/v1/quarantine/ID/delete
//   GET  /api/v1/quarantine/ID/preview    headers, text, attachments (viewer; malware items: admin)
//   POST /api/v1/quarantine/ID/allow-sender
//   POST /api/v1/quarantine/ID/false-positive  {"note": "..."} (optional)
//   GET  /api/v1/false-positives
#pragma once

#include <string>

#include "http/router.h"

namespace mailmoat::app {

class QuarantineService;
class QuarantineActions;
class ApiAuth;

// Viewers list, show and preview; admins download, release, delete, allow the
// sender and report false positives. Without `actions` those routes answer 404.
void add_quarantine_routes(http::Router& router, QuarantineService& quarantine, const ApiAuth& auth,
                           QuarantineActions* actions = nullptr);

}  // namespace mailmoat::app
