// sql::Conn over one SQLite connection (WAL, foreign keys, busy timeout,
// cached prepared statements). Not thread-safe by itself: the owner
// serialises calls (SqlStore's mutex, or the watcher thread owning its own).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "store/sql/conn.hpp"

namespace gatehouse::store::sqlite {

class SqliteConn final : public sql::Conn {
 public:
  // Creates the folder and the file when missing.
  static Result<std::unique_ptr<SqliteConn>> open(const std::string& path,
                                                  std::chrono::milliseconds busy_timeout);
  ~SqliteConn() override;

  sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }
  Result<sql::Rows> query(std::string_view sql, const std::vector<sql::Param>& params) override;
  Result<void> script(std::string_view sql) override;
  Result<void> begin(TxMode mode) override;
  Result<void> commit() override;
  void rollback() override;

 private:
  SqliteConn(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Error error(int rc, std::string_view what) const;
  sqlite3* db_;
  std::string path_;
  std::map<std::string, sqlite3_stmt*, std::less<>> stmts_;
};

}  // namespace gatehouse::store::sqlite
