// sql::Conn over one libpq connection. Not thread-safe by itself: SqlStore
// serialises calls. A connection found broken outside a transaction is
// re-established (and its prepared statements forgotten) before the next
// statement, so one restart of the server costs one failed call at most.
#pragma once

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <string>

#include "store/sql/conn.hpp"

namespace gatehouse::store::postgres {

// libpq connection with the defaults Gatehouse wants (connect timeout,
// application_name) unless the URL sets them; notices are dropped.
Result<PGconn*> connect(const std::string& url, const char* application_name);

// The URL without its password, for logs and describe().
std::string redact_url(const std::string& url);

// Turns a failed result (or a broken connection) into an Error.
Error pg_error(PGconn* c, const PGresult* r, std::string_view what);

class PgConn final : public sql::Conn {
 public:
  static Result<std::unique_ptr<PgConn>> open(const std::string& url);
  ~PgConn() override;

  sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }
  Result<sql::Rows> query(std::string_view sql, const std::vector<sql::Param>& params) override;
  Result<void> script(std::string_view sql) override;
  Result<void> begin(TxMode mode) override;
  Result<void> commit() override;
  void rollback() override;

 private:
  PgConn(PGconn* c, std::string url) : conn_(c), url_(std::move(url)) {}
  Result<void> ensure_connected();
  Result<sql::Rows> run(std::string_view sql, const std::vector<sql::Param>& params);
  PGconn* conn_;
  std::string url_;
  bool in_tx_ = false;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL -> statement name
};

}  // namespace gatehouse::store::postgres
