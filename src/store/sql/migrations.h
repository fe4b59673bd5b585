// Versioned schema for both backends. Each version is one transaction that
// moves the schema from version-1 to version and records it in
// `schema_version`; versions are applied in order at start-up and never edited
// once released (a change is a new version). PostgreSQL text columns that are
// searched by range use COLLATE "C" so both backends compare bytes.
#pragma once

#include "store/sql/connection.h"

namespace mailmoat::store::sql {

int latest_schema_version();
// 0 for an empty database.
util::Result<int> schema_version(Connection& c);
// Applies every version after the current one up to `target` (default: latest).
util::Result<int> migrate(Connection& c, int target = -1);

}  // namespace mailmoat::store::sql
