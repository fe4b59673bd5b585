// The bytes of an HTTP/1.x response: status line, header fields, body, written
// in one buffer so that answering a request is one send and no per-field
// allocation. Header values lose any CR, LF or NUL (a value can never start a
// field or a response of its own).
#pragma once

#include <string>

#include "http/router.h"

namespace mailmoat::http {

struct WireOptions {
  unsigned version = 11;      // 10 or 11, the request's
  bool keep_alive = true;     // Connection: close (1.1) / keep-alive (1.0) follow from it
  bool strict_transport = false;  // HTTPS: Strict-Transport-Security
};

// The listener's own fields come first (Server, Content-Type, X-Content-Type-Options,
// Strict-Transport-Security); a field of the response with the same name (any case)
// replaces one set before it. Content-Length is the body's size, except for 1xx, 204
// and 304 answers, which have no body.
std::string serialize_response(const Response& response, const WireOptions& options);

}  // namespace mailmoat::http
