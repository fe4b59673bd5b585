// `mailmoat serve`: load and validate the configuration, check the data
// directory and TLS files, bind every listener (failing with one clear line
// before anything starts), run the event loop on the configured threads, and
// handle SIGTERM/SIGINT (graceful stop) and SIGHUP (reload configuration).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mailmoat::app {

struct ServeOptions {
  std::string config_path;
  std::vector<std::string> overrides;
  std::optional<std::string> log_format;
  std::string ready_file;  // written (JSON with the bound addresses) once every listener is up
};

int serve(const ServeOptions& options);

}  // namespace mailmoat::app
