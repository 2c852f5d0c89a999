// Node-wide counts of requests in flight, per key. The unkeyed case (a
// route's own limit) is one atomic, compare-and-swap, no lock; keyed counts
// (per consumer or IP) live in 64 mutex-guarded shards and an entry exists
// only while its key has requests in flight, so memory follows load.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gatehouse::policy::concurrency_limit {

class InFlight {
 public:
  // Takes a slot for `key` ("" = the unkeyed counter) when fewer than `max`
  // are taken; false otherwise.
  bool acquire(std::string_view key, int64_t max);
  // Gives back a slot taken by acquire().
  void release(std::string_view key);
  int64_t count(std::string_view key) const;
  size_t keys() const;  // keyed entries held (tests)

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr size_t kShards = 64;
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>> counts;
  };
  Shard& shard(std::string_view key);
  const Shard& shard(std::string_view key) const;

  alignas(64) std::atomic<int64_t> unkeyed_{0};
  std::array<Shard, kShards> shards_;
};

}  // namespace gatehouse::policy::concurrency_limit
