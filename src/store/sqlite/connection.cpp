#include "store/sqlite/connection.h"

#include <sqlite3.h>

#include <functional>
#include <string_view>
#include <unordered_map>

namespace mailmoat::store::sqlite {
namespace {

class SqliteConnection final : public sql::Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  sql::Dialect dialect() const override { return sql::Dialect::sqlite; }

  util::Result<std::vector<sql::Row>> query(std::string_view sql, const std::vector<sql::Value>& params) override {
    auto stmt = prepare(sql, params);
    if (!stmt) return std::unexpected(stmt.error());
    std::vector<sql::Row> rows;
    while (true) {
      int rc = sqlite3_step(*stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return finish_error(*stmt);
      sql::Row row;
      int n = sqlite3_column_count(*stmt);
      row.cols.reserve(n);
      for (int i = 0; i < n; ++i) {
        if (sqlite3_column_type(*stmt, i) == SQLITE_NULL) {
          row.cols.emplace_back(std::nullopt);
          continue;
        }
        const void* data = sqlite3_column_blob(*stmt, i);
        int len = sqlite3_column_bytes(*stmt, i);
        row.cols.emplace_back(std::string(static_cast<const char*>(data), data ? len : 0));
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(*stmt);
    return rows;
  }

  util::Result<std::int64_t> exec(std::string_view sql, const std::vector<sql::Value>& params) override {
    auto stmt = prepare(sql, params);
    if (!stmt) return std::unexpected(stmt.error());
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return finish_error(*stmt);
    sqlite3_reset(*stmt);
    return static_cast<std::int64_t>(sqlite3_changes64(db_));
  }

  util::Result<void> exec_script(std::string_view sql) override {
    char* err = nullptr;
    std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return util::fail("sqlite: " + msg);
    }
    return {};
  }

  // IMMEDIATE takes the write lock at once, so the busy timeout applies at BEGIN
  // rather than failing with SQLITE_BUSY half-way through a transaction.
  util::Result<void> begin() override { return exec_script("BEGIN IMMEDIATE"); }
  util::Result<void> commit() override { return exec_script("COMMIT"); }
  void rollback() override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  // The parameters are bound without a copy (SQLITE_STATIC): `params` outlives every step
  // of the statement, which query() and exec() run to the end and reset before they return,
  // and the next use clears the bindings before it binds its own.
  util::Result<sqlite3_stmt*> prepare(std::string_view sql, const std::vector<sql::Value>& params) {
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
      stmt = it->second;
    } else {
      std::string key(sql);
      if (sqlite3_prepare_v3(db_, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                             nullptr) != SQLITE_OK)
        return util::fail(std::string("sqlite: ") + sqlite3_errmsg(db_));
      // Searches build many distinct texts; keep the cache bounded.
      if (cache_.size() > 256) {
        for (auto& [s, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
      }
      cache_.emplace(std::move(key), stmt);
    }
    sqlite3_clear_bindings(stmt);
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1), rc = SQLITE_OK;
      const auto& v = params[i];
      if (std::holds_alternative<std::nullptr_t>(v)) rc = sqlite3_bind_null(stmt, idx);
      else if (auto* n = std::get_if<std::int64_t>(&v)) rc = sqlite3_bind_int64(stmt, idx, *n);
      else if (auto* s = std::get_if<std::string>(&v))
        rc = sqlite3_bind_text64(stmt, idx, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      else {
        const auto& b = std::get<sql::Blob>(v).bytes;
        rc = sqlite3_bind_blob64(stmt, idx, b.data(), b.size(), SQLITE_STATIC);
      }
      if (rc != SQLITE_OK) return util::fail(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
    return stmt;
  }

  std::unexpected<util::Error> finish_error(sqlite3_stmt* stmt) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    return util::fail("sqlite: " + msg);
  }

  sqlite3* db_;
  // Looked up by the caller's string_view: no copy of the statement text per query.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, TextHash, std::equal_to<>> cache_;
};

}  // namespace

util::Result<std::unique_ptr<sql::Connection>> connect(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return util::fail("sqlite: cannot open " + path + ": " + msg);
  }
  auto conn = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 5000);
  // NORMAL is durable across application crashes in WAL mode; only a power loss
  // can drop the last transactions, which the trace spill file does not cover either.
  // A 64 MiB page cache keeps the trace indexes' upper levels in memory at millions of rows.
  if (auto r = conn->exec_script("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                                 "PRAGMA cache_size=-65536;");
      !r)
    return util::fail("sqlite: cannot configure " + path + ": " + r.error().message);
  return std::unique_ptr<sql::Connection>(std::move(conn));
}

}  // namespace mailmoat::store::sqlite
