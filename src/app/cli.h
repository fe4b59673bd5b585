// `mailmoat <subcommand>`: the command line (CLI11). Exit status 0 on
// success, 1 when the command ran and failed (bad configuration, a port in
// use), 2 for usage errors (unknown subcommand or option).
#pragma once

namespace mailmoat::app {

int run_cli(int argc, char** argv);

}  // namespace mailmoat::app
