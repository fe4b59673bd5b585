// store::open: picks the backend from store.url, connects, migrates.
#include <filesystem>

#include "store/postgres/connection.h"
#include "store/sql/shared.h"
#include "store/sqlite/connection.h"
#include "store/stores.h"
#include "store/url.h"

namespace mailmoat::store {

util::Result<std::unique_ptr<Stores>> open(const std::string& url, const std::string& data_dir,
                                          std::shared_ptr<const Clock> clock) {
  auto parsed = parse_store_url(url, data_dir);
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->kind == StoreUrl::Kind::sqlite) {
    std::error_code ec;
    auto parent = std::filesystem::path(parsed->path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    auto conn = sqlite::connect(parsed->path);
    if (!conn) return std::unexpected(conn.error());
    return sql::make_stores(std::move(*conn), std::move(clock), "sqlite", parsed->redacted);
  }
  auto conn = postgres::connect(*parsed);
  if (!conn) return std::unexpected(conn.error());
  auto stores = sql::make_stores(std::move(*conn), std::move(clock), "postgresql", parsed->redacted);
  if (!stores) return util::fail(redact_url(stores.error().message));
  return stores;
}

}  // namespace mailmoat::store
