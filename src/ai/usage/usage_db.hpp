// The llm_usage table (store migration 3) through the store's narrow SQL
// surface, so SQLite and PostgreSQL share every statement: batched inserts,
// the retention sweep, and the analytics query (filters, grouping, totals,
// keyset pagination).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ai/usage/query_params.hpp"
#include "ai/usage/record.hpp"
#include "common/result.hpp"
#include "store/sql/conn.hpp"

namespace gatehouse::ai::usage {

struct Query {
  int64_t from_ms = 0;                                  // inclusive
  int64_t to_ms = std::numeric_limits<int64_t>::max();  // exclusive
  std::string consumer, model, provider, route;         // empty: any
  GroupBy group_by = GroupBy::kNone;
  size_t limit = 100;  // 1..1000
  std::string cursor;  // from the previous page
};

class UsageDb {
 public:
  explicit UsageDb(std::unique_ptr<store::sql::Conn> conn) : conn_(std::move(conn)) {}
  // The control-plane store's database: `store_url` as --store takes it
  // ("" = SQLite <data_dir>/gatehouse.db), migrated to the current schema.
  static Result<std::unique_ptr<UsageDb>> open(const std::string& store_url,
                                               const std::string& data_dir);

  // All of them in one transaction.
  Result<void> insert(const std::vector<Record>& records);
  // Deletes records that started before `at_ms`; how many went.
  Result<int64_t> delete_before(int64_t at_ms);
  // {totals, items, next_cursor}: records newest first, or groups in key order.
  Result<boost::json::object> query(const Query& q);

 private:
  std::mutex mu_;  // one statement at a time on the connection
  std::unique_ptr<store::sql::Conn> conn_;
};

}  // namespace gatehouse::ai::usage
