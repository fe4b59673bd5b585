// Least privilege for `mailmoat serve`: started as root it binds its ports,
// hands the data directory to `server.user` and becomes that user (groups,
// gid, uid; no way back). Root without `server.user` is refused when any
// listener is reachable beyond loopback; on loopback only (development, the
// test suite, `make run`) it runs with a warning. See docs/security.md.
#pragma once

#include <string>

#include "app/config.h"
#include "util/error.h"

namespace mailmoat::app {

// Before anything is bound: refuses root with public listeners and no
// server.user, and a server.user that does not exist.
util::Result<void> check_run_as(const Config& cfg);

// Soft RLIMIT_NOFILE up to the hard limit (thousands of sessions each hold a
// socket, deliveries and spool files more); logged when raised.
void raise_open_file_limit();

// After every listener is bound, before any session or delivery starts.
util::Result<void> drop_privileges(const Config& cfg);

}  // namespace mailmoat::app
