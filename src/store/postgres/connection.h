// sql::Connection over libpq. `?` placeholders become $1..$n; byte strings are
// sent and received in binary (bytea), everything else as text. A lost
// connection is re-established on the next call, so a store that was down
// works again once PostgreSQL is back. Error texts never carry the password.
#pragma once

#include <memory>

#include "store/sql/connection.h"
#include "store/url.h"

namespace mailmoat::store::postgres {

util::Result<std::unique_ptr<sql::Connection>> connect(const StoreUrl& url);
// "$1"-numbered form of a "?" statement; '?' inside quoted literals is kept.
std::string number_placeholders(std::string_view sql);

}  // namespace mailmoat::store::postgres
