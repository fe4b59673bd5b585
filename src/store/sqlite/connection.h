// sql::Connection over the sqlite3 C API: WAL journal, a busy timeout so a
// second process (the CLI) waits instead of failing, foreign keys on, and a
// cache of prepared statements keyed by SQL text.
#pragma once

#include <memory>
#include <string>

#include "store/sql/connection.h"

namespace mailmoat::store::sqlite {

util::Result<std::unique_ptr<sql::Connection>> connect(const std::string& path);

}  // namespace mailmoat::store::sqlite
