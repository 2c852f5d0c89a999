// The durable side of quotas: one SQLite file (WAL) in the data folder,
// table quota_usage(scope, key, period_start, count). Only the control
// thread (loading at snapshot build) and the writer thread touch it; never a
// worker, whose hooks must not wait on the disk.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "policies/quota/usage_table.hpp"

namespace gatehouse::policy::quota {

// "<data_dir>/quotas.db", made absolute so a later chdir changes nothing.
std::string db_path_in(const std::string& data_dir);

// The unsaved counts of one policy (scope).
struct ScopeDeltas {
  std::string scope;
  std::vector<Delta> deltas;
};

// A read-write connection, owned by the writer thread.
class QuotaDb {
 public:
  // Creates the folder, the file and the table when missing; WAL mode.
  static Result<std::unique_ptr<QuotaDb>> open(const std::string& path);
  ~QuotaDb();
  QuotaDb(const QuotaDb&) = delete;
  QuotaDb& operator=(const QuotaDb&) = delete;

  // Adds every delta in one transaction (all or nothing).
  Result<void> add(const std::vector<ScopeDeltas>& batches);

 private:
  explicit QuotaDb(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* upsert_ = nullptr;
};

// The counts of `scope` in the period starting at `period_start`. A missing
// file or table means no counts yet: nothing is created, so `gatehouse
// check` leaves no data folder behind.
Result<std::vector<std::pair<std::string, int64_t>>> load_usage(const std::string& path,
                                                                const std::string& scope,
                                                                int64_t period_start);

}  // namespace gatehouse::policy::quota
