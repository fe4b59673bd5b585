// ctest fixture: `store_pg_fixture start STATE` starts one PostgreSQL for all
// store test processes and writes "<dir> <port>" to STATE; `stop STATE` stops
// it and removes its directory.
#include <cstdio>
#include <fstream>
#include <string>

#include "pg_server.h"

int main(int argc, char** argv) {
  using mailmoat::store::testing::PgServer;
  if (argc != 3) {
    std::fprintf(stderr, "usage: store_pg_fixture start|stop STATE_FILE\n");
    return 2;
  }
  std::string cmd = argv[1], state = argv[2];
  PgServer server;
  if (cmd == "start") {
    if (std::string err = server.start(); !err.empty()) {
      std::fprintf(stderr, "store_pg_fixture: %s\n", err.c_str());
      return 1;
    }
    std::ofstream(state) << server.dir() << " " << server.port() << "\n";
    server.release();
    return 0;
  }
  std::ifstream in(state);
  std::string dir;
  int port = 0;
  if (!(in >> dir >> port)) return 0;
  server.adopt(dir, port);
  server.destroy();
  std::remove(state.c_str());
  return 0;
}
