#include "app/cli.h"

int main(int argc, char** argv) { return mailmoat::app::run_cli(argc, argv); }
