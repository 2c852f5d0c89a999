// Getting quota counts to disk without a worker ever waiting on it. Workers
// count in memory (UsageTable); one background thread per process takes
// what was counted every second and adds it to the database in one
// transaction. At normal exit (main returns, e.g. after SIGTERM) a final
// flush runs from a static object's destructor; a hard kill loses at most the
// last second of counts.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"
#include "policies/quota/quota_db.hpp"
#include "policies/quota/usage_table.hpp"

namespace gatehouse::policy::quota {

class Writer;

// One quota policy's counts and where they are saved. Shared by every
// snapshot in which the policy is unchanged (see rate_limit/shared_state.hpp);
// when the last one lets go, the counts not yet saved go to the writer.
class ScopedUsage {
 public:
  ScopedUsage(std::string scope, std::string db_path, Period period, int64_t limit, CountMode mode,
              std::shared_ptr<Writer> writer);
  ~ScopedUsage();
  ScopedUsage(const ScopedUsage&) = delete;
  ScopedUsage& operator=(const ScopedUsage&) = delete;

  const std::string& scope() const { return scope_; }
  const std::string& db_path() const { return db_path_; }
  UsageTable& table() { return table_; }

 private:
  const std::string scope_;
  const std::string db_path_;
  UsageTable table_;
  std::shared_ptr<Writer> writer_;
};

class Writer {
 public:
  // The process's writer; its thread starts with the first tracked table.
  static std::shared_ptr<Writer> instance();
  Writer() = default;
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void track(const std::shared_ptr<ScopedUsage>& usage);
  // Counts of a table that is going away (its destructor).
  void adopt(const std::string& db_path, ScopeDeltas batch);
  // True when counts of `scope` handed over by a dead table wait to be saved.
  bool has_pending(const std::string& db_path, const std::string& scope);
  // Saves everything counted so far, now (the thread does this every second).
  // Failed saves are kept and retried.
  Result<void> flush();
  // Stops the thread after a final flush; later hand-overs are saved at once.
  void shutdown();
  // The counts of `scope` in one period as saved, after any save in progress.
  Result<std::vector<std::pair<std::string, int64_t>>> load(const std::string& db_path,
                                                            const std::string& scope,
                                                            int64_t period_start);

 private:
  void run();
  Result<void> flush_locked();

  std::mutex mu_;  // the lists below; never held during disk I/O
  std::condition_variable cv_;
  bool stop_ = false;
  bool closed_ = false;
  std::thread thread_;
  std::vector<std::weak_ptr<ScopedUsage>> tracked_;
  std::map<std::string, std::vector<ScopeDeltas>> pending_;  // db path -> counts to save

  std::mutex flush_mu_;  // one flush at a time; owns the connections
  std::map<std::string, std::unique_ptr<QuotaDb>> dbs_;
  bool failing_ = false;  // log a failure once per streak, and the recovery
};

// The counts of `scope`: the live table when the policy is unchanged by a
// reload, else a new table seeded from the database with the current
// period's counts (this reads the disk: call it on the control thread).
Result<std::shared_ptr<ScopedUsage>> open_usage(const std::string& scope,
                                                const std::string& data_dir, Period period,
                                                int64_t limit, CountMode mode, int64_t now_s);

// Saves every count now (tests; tools that stop without exiting).
Result<void> flush_usage();

}  // namespace gatehouse::policy::quota
