// A quota's live counts on this node: exact across worker threads (64 shards,
// each a mutex and a hash map, like rate-limit's local store), and a record of
// what has not been saved yet, which the writer thread takes every second.
// Time is passed in (Unix seconds), so tests never sleep.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/quota/period.hpp"

namespace gatehouse::policy::quota {

enum class CountMode {
  kAll,      // counted when admitted
  kSuccess,  // counted when the response is < 400 (settle())
};

// The outcome of admit(), with what the X-Quota-* headers report.
struct Usage {
  bool allowed = false;
  int64_t limit = 0;
  int64_t remaining = 0;     // calls still allowed in this period, after this one
  int64_t period_start = 0;  // Unix seconds: the period this call belongs to
  int64_t reset_at = 0;      // Unix seconds: when the next period starts
};

// Calls to add to the durable count of (key, period_start).
struct Delta {
  std::string key;
  int64_t period_start = 0;
  int64_t count = 0;
};

class UsageTable {
 public:
  UsageTable(Period period, int64_t limit, CountMode mode);
  UsageTable(const UsageTable&) = delete;
  UsageTable& operator=(const UsageTable&) = delete;

  Period period() const { return period_; }
  int64_t limit() const { return limit_; }
  CountMode mode() const { return mode_; }

  // Admits one call for `key` when the quota allows it. kAll counts it now
  // (a refused call is never counted). kSuccess reserves a slot instead, so
  // calls in flight together cannot overshoot the quota; settle() turns the
  // reservation into a count or frees it.
  // `amount` weighs the call (llm-budget counts micro-units of money).
  Usage admit(std::string_view key, int64_t now_s, int64_t amount = 1);
  void settle(std::string_view key, int64_t period_start, bool counted);
  // kSuccess with weights: frees `reserved` and counts `actual` instead.
  void settle(std::string_view key, int64_t period_start, int64_t reserved, int64_t actual);

  // Counts read from the database, before any worker sees the table.
  void seed(std::string_view key, int64_t period_start, int64_t count);

  // What was counted since the last call, per (key, period); the writer
  // thread saves it. Counts of past periods are included.
  std::vector<Delta> take_deltas();

  // Calls counted for `key` in the period containing `now_s` (tests, admin).
  int64_t used(std::string_view key, int64_t now_s) const;
  size_t size() const;

 private:
  struct Entry {
    int64_t period_start = 0;
    int64_t count = 0;      // counted in period_start (seeded + new)
    int64_t in_flight = 0;  // kSuccess: admitted, not settled yet
    int64_t unsaved = 0;    // part of count the writer has not taken yet
    bool listed = false;    // key is in Shard::dirty
  };
  struct KeyHash {
    using is_transparent = void;  // find() by string_view: no allocation per call
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kShards = 64;
  static constexpr int64_t kSweepEveryS = 60;
  // One cache line per shard head so neighbouring locks do not false-share.
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>> map;
    std::vector<std::string> dirty;  // keys with unsaved counts: the writer visits only these
    std::vector<Delta> past;         // unsaved counts of periods that have ended
    int64_t next_sweep_s = 0;
  };

  Shard& shard_for(std::string_view key) const;
  static void mark_counted(Shard& sh, const std::string& key, Entry& e, int64_t n);
  static void roll_over(Shard& sh, const std::string& key, Entry& e, int64_t period_start);
  static void sweep(Shard& sh, int64_t current_start, int64_t now_s);

  const Period period_;
  const int64_t limit_;
  const CountMode mode_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace gatehouse::policy::quota
