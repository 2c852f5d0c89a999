// The narrow SQL surface the store is written against, so the store's logic
// exists once and each backend only adapts a connection: parameters bound by
// position (`?` in the SQL text; the PostgreSQL adapter rewrites them to $n),
// every result value read as text (NULL = nullopt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::store::sql {

enum class Dialect { kSqlite, kPostgres };

using Param = std::variant<std::nullptr_t, int64_t, std::string>;

struct Row {
  std::vector<std::optional<std::string>> cols;
  bool null(size_t i) const { return !cols.at(i).has_value(); }
  const std::string& text(size_t i) const;  // "" for NULL
  int64_t int64(size_t i) const;            // 0 for NULL or non-numbers
};
using Rows = std::vector<Row>;

// Error codes the store maps further (besides generic store_error, 500):
//   store_busy (503)        SQLite lock not granted within the busy timeout
//   store_unavailable (503) PostgreSQL connection lost
//   unique_violation (409)  a unique index refused a row
class Conn {
 public:
  virtual ~Conn() = default;
  virtual Dialect dialect() const = 0;
  // One statement; statements are prepared once per connection and reused.
  virtual Result<Rows> query(std::string_view sql, const std::vector<Param>& params = {}) = 0;
  // Several statements without parameters (schema migrations).
  virtual Result<void> script(std::string_view sql) = 0;

  // kWrite serialises writers across processes as far as the engine does by
  // itself (SQLite: BEGIN IMMEDIATE takes the file's write lock); PostgreSQL
  // writers additionally lock the revision row (see sql_commit.cpp).
  // kRead is a consistent snapshot (PostgreSQL: REPEATABLE READ READ ONLY).
  enum class TxMode { kRead, kWrite };
  virtual Result<void> begin(TxMode mode) = 0;
  virtual Result<void> commit() = 0;
  virtual void rollback() = 0;
};

// Rolls back on every path out of a scope unless commit() succeeded.
class TxGuard {
 public:
  explicit TxGuard(Conn& c) : c_(c) {}
  ~TxGuard() {
    if (open_) c_.rollback();
  }
  TxGuard(const TxGuard&) = delete;
  TxGuard& operator=(const TxGuard&) = delete;
  Result<void> begin(Conn::TxMode mode) {
    auto r = c_.begin(mode);
    open_ = r.ok();
    return r;
  }
  Result<void> commit() {
    open_ = false;
    auto r = c_.commit();
    if (!r) c_.rollback();
    return r;
  }

 private:
  Conn& c_;
  bool open_ = false;
};

}  // namespace gatehouse::store::sql
