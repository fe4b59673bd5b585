// The admin console's static files (web/, built by Vite into <build>/console
// or http.console_dir), served from the HTTP listener under /console/ with a
// Content-Security-Policy of default-src 'self': the page loads nothing from
// elsewhere and runs no inline script. Only known file types are served and a
// path can never leave the directory.
#pragma once

#include <optional>
#include <string>

#include "http/router.h"

namespace mailmoat::app {

// The file under `dir` that `relative` names, or nothing (dot segments,
// backslashes, percent escapes, or a path resolving outside `dir`).
std::optional<std::string> console_file(const std::string& dir, std::string_view relative);

// GET /console (redirect) and GET /console/... ; `dir` empty: the build's console directory.
void add_console_routes(http::Router& router, std::string dir);

}  // namespace mailmoat::app
