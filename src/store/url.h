// Parses `store.url` into a backend choice (sqlite file or PostgreSQL conninfo
// pieces) and redacts passwords for logs. The password is kept only inside the
// parsed value handed to libpq; `redacted` is the form every message uses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.h"

namespace mailmoat::store {

struct StoreUrl {
  enum class Kind { sqlite, postgresql } kind = Kind::sqlite;
  std::string path;  // sqlite
  std::string user, password, host, database;  // postgresql
  std::uint16_t port = 5432;
  std::string redacted;
};

util::Result<StoreUrl> parse_store_url(std::string_view url, std::string_view data_dir);
// Replaces the password of any "scheme://user:password@" in `text` with "***".
std::string redact_url(std::string_view text);

}  // namespace mailmoat::store
