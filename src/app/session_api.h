// Admin API routes of user accounts and console sessions (issue 10, issue 12):
//   POST   /api/v1/session {"user","password"} -> cookie mailmoat_session + {"user","role","csrf","expires_at"}
//   GET    /api/v1/session, DELETE /api/v1/session (sign-out; needs X-CSRF-Token)
//   GET/POST /api/v1/users, POST /api/v1/users/NAME/password, POST /api/v1/users/NAME/delete (admin)
// Sign-in is refused with 429 + Retry-After after 5 failures in 15 minutes for
// the account or for the client address; every failure is audited.
#pragma once

#include "app/accounts.h"
#include "app/api_auth.h"
#include "http/router.h"

namespace mailmoat::app {

void add_session_routes(http::Router& router, Accounts& accounts, ApiAuth& auth);
void add_user_routes(http::Router& router, Accounts& accounts, ApiAuth& auth);

}  // namespace mailmoat::app
