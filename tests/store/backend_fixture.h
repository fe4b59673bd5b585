// Opens a fresh, empty store of the backend a test is parameterised with:
// SQLite in a new temporary directory, or a new database on the shared test
// PostgreSQL (started once per process, or the one the ctest fixture started).
#pragma once

#include <memory>
#include <string>

#include "store/sql/connection.h"
#include "store/stores.h"

namespace mailmoat::store::testing {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Micros t) : t_(t) {}
  Micros now() const override { return t_; }
  void set(Micros t) { t_ = t; }

 private:
  Micros t_;
};

// A URL for a new empty database of `backend` ("sqlite" or "postgresql"), and the
// data directory to pass to store::open. Fails the current test when it cannot.
struct FreshDatabase {
  std::string url;
  std::string data_dir;
};
FreshDatabase fresh_database(const std::string& backend);
// The URL of the shared test server's "postgres" database ("" if none could start).
std::string shared_pg_server_url();
// A raw connection to `url` (for migration tests that write an older schema).
std::unique_ptr<sql::Connection> raw_connection(const std::string& url);

}  // namespace mailmoat::store::testing
