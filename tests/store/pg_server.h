// A real PostgreSQL 15 for tests, in a temporary directory on a free loopback
// port (recipe of /work/shared/TESTING.md): initdb and pg_ctl as the postgres
// user, trust authentication, stopped and removed by stop() or the destructor.
// Tests that run in separate processes share one server through
// MAILMOAT_TEST_PG_URL (set up by the store_pg_fixture ctest fixture).
#pragma once

#include <string>

namespace mailmoat::store::testing {

class PgServer {
 public:
  PgServer() = default;
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Creates the cluster and starts it; returns "" or an error text. Tests run
  // with fsync off (speed); `durable` keeps PostgreSQL's defaults (benchmarks).
  std::string start(bool durable = false);
  std::string stop();     // pg_ctl stop; the cluster stays for restart()
  std::string restart();  // start again on the same port and data
  void destroy();         // stop and remove the directory
  // URL of `database` on this server as the superuser "mailmoat".
  std::string url(const std::string& database = "postgres") const;
  std::string dir() const { return dir_; }
  // Hands the running server over to another process (the ctest fixture):
  // after release() the destructor leaves it alone; adopt() takes one over.
  void release() { dir_.clear(); running_ = false; }
  void adopt(const std::string& dir, int port) { dir_ = dir; port_ = port; running_ = true; }
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
  bool running_ = false;
  bool durable_ = false;
};

int free_port();
// Runs a shell command; returns its exit status.
int run(const std::string& command);
// Creates a fresh database with a unique name on the server at `server_url`
// (a URL of its "postgres" database); returns the new database's URL or "".
std::string create_database(const std::string& server_url);

}  // namespace mailmoat::store::testing
