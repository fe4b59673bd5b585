// The small SQL surface both backends implement, so the store logic (queries,
// paging, migrations) is written once. SQL text uses `?` placeholders; the
// PostgreSQL connection renumbers them to $n. Values are always bound, never
// spliced into SQL text. Not thread-safe: the owner serialises calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "util/error.h"

namespace mailmoat::store::sql {

struct Blob {
  std::string bytes;
};
using Value = std::variant<std::nullptr_t, std::int64_t, std::string, Blob>;

struct Row {
  std::vector<std::optional<std::string>> cols;
  std::int64_t integer(std::size_t i) const;
  const std::string& text(std::size_t i) const;  // "" for NULL
  bool is_null(std::size_t i) const { return !cols.at(i).has_value(); }
};

enum class Dialect { sqlite, postgresql };

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  virtual util::Result<std::vector<Row>> query(std::string_view sql, const std::vector<Value>& params) = 0;
  // For statements without results; returns the number of rows changed.
  virtual util::Result<std::int64_t> exec(std::string_view sql, const std::vector<Value>& params) = 0;
  // A script of several statements without parameters (migrations).
  virtual util::Result<void> exec_script(std::string_view sql) = 0;
  virtual util::Result<void> begin() = 0;
  virtual util::Result<void> commit() = 0;
  virtual void rollback() = 0;
};

// Runs `fn` between begin and commit; rolls back when it or the commit fails.
template <typename Fn>
auto in_transaction(Connection& c, Fn&& fn) -> decltype(fn()) {
  if (auto b = c.begin(); !b) return std::unexpected(b.error());
  auto r = fn();
  if (!r) {
    c.rollback();
    return r;
  }
  if (auto cm = c.commit(); !cm) {
    c.rollback();
    return std::unexpected(cm.error());
  }
  return r;
}

}  // namespace mailmoat::store::sql
