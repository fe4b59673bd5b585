#include "backend_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "pg_server.h"
#include "store/postgres/connection.h"
#include "store/sqlite/connection.h"
#include "store/url.h"

namespace mailmoat::store::testing {
namespace {

std::string try_state_file() {
  std::ifstream in(MAILMOAT_STORE_PG_STATE);
  std::string dir;
  int port = 0;
  if (!(in >> dir >> port)) return "";
  std::string url = "postgresql://mailmoat@127.0.0.1:" + std::to_string(port) + "/postgres";
  auto parsed = parse_store_url(url, "");
  if (!parsed || !postgres::connect(*parsed)) return "";
  return url;
}

}  // namespace

std::string shared_pg_server_url() {
  static std::once_flag once;
  static std::string url;
  static PgServer own;  // started when no fixture server runs; stopped at exit
  std::call_once(once, [] {
    url = try_state_file();
    if (!url.empty()) return;
    if (std::string err = own.start(); !err.empty()) {
      ADD_FAILURE() << "cannot start PostgreSQL: " << err;
      return;
    }
    url = own.url();
  });
  return url;
}

FreshDatabase fresh_database(const std::string& backend) {
  char tmpl[] = "/tmp/mailmoat-store-XXXXXX";
  std::string dir = ::mkdtemp(tmpl) ? tmpl : "";
  if (backend == "sqlite") return {"sqlite:" + dir + "/store.db", dir};
  std::string server = shared_pg_server_url();
  std::string url = server.empty() ? "" : create_database(server);
  if (url.empty()) ADD_FAILURE() << "cannot create a PostgreSQL test database";
  return {url, dir};
}

std::unique_ptr<sql::Connection> raw_connection(const std::string& url) {
  auto parsed = parse_store_url(url, "");
  if (!parsed) return nullptr;
  auto conn = parsed->kind == StoreUrl::Kind::sqlite ? sqlite::connect(parsed->path) : postgres::connect(*parsed);
  if (!conn) return nullptr;
  return std::move(*conn);
}

}  // namespace mailmoat::store::testing
