// Getting usage records to the database without a worker ever waiting on it
// (as quota counts do, src/policies/quota/writer.hpp): workers append to
// their own shard's buffer (a mutex only the flusher also takes, once per
// flush), one background thread per process writes what was buffered every
// flush_interval in one transaction, and deletes records past the retention
// every few minutes. At normal exit a final flush runs; a hard kill loses at
// most the last interval. While the database is down records stay buffered,
// up to max_pending; beyond that they are dropped and counted.
#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ai/usage/record.hpp"
#include "ai/usage/usage_db.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"

namespace gatehouse::ai::usage {

class Recorder {
 public:
  // The process's recorder; its database is the control-plane store's
  // (process_settings()), opened on first use.
  static Recorder& instance();
  Recorder() = default;
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Workers: buffers one record (starting the thread on first use). `cfg` is
  // the snapshot's llm.usage; its intervals apply from the next flush.
  void submit(size_t worker, Record r, const config::LlmUsageConfig& cfg);
  // Writes everything buffered so far, now (the thread does this every
  // flush_interval; the admin API before it reads). Failed writes stay
  // buffered and are retried.
  Result<void> flush();
  // Flushes, then queries (control thread).
  Result<boost::json::object> query(const Query& q);
  // Deletes records older than the retention now (tests; the thread does it
  // every few minutes).
  Result<int64_t> sweep(int64_t now_ms);
  // Stops the thread after a final flush.
  void shutdown();

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  // Tests: use this database instead of the store's.
  void use_db(std::unique_ptr<UsageDb> db);

 private:
  static constexpr size_t kShards = 64;  // worker index modulo this
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<Record> buf;
  };

  void run();
  Result<UsageDb*> db();

  Shard shards_[kShards];
  std::atomic<size_t> pending_{0};
  std::atomic<uint64_t> max_pending_{100'000};
  std::atomic<int64_t> flush_interval_ms_{1'000};
  std::atomic<int64_t> retention_ms_{30LL * 86'400'000};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> written_{0};
  std::once_flag started_;

  std::mutex flush_mu_;          // one flush at a time; owns db_ and retry_
  std::unique_ptr<UsageDb> db_;  // opened on first flush or query
  std::vector<Record> retry_;    // a failed batch, written first next time
  bool failing_ = false;         // log a failure once per streak, and the recovery
  int64_t last_sweep_ms_ = 0;

  std::mutex mu_;  // stop_ and the thread's wait
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Prometheus lines: records written and dropped.
std::string render_usage_metrics();

}  // namespace gatehouse::ai::usage
