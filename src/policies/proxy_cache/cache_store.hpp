// The response store of proxy-cache: an in-memory LRU bounded in bytes and
// entries, shared by every worker of the node. It is split into shards by key
// hash, each with its own small lock held only to find, insert or unlink an
// entry (never while a body is copied or sent), so workers serving different
// keys rarely meet and there is no global lock on the request path.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "policies/policy.hpp"

namespace gatehouse::policy {

struct CacheEntry {
  // The response; null for a Vary marker, which only says which request
  // headers pick the variant (stored under its own key).
  std::shared_ptr<const StoredResponse> response;
  std::vector<std::string> vary;  // marker: lower-case request header names
  std::string route;              // for purges by route
  int64_t stored_ms = 0;          // wall clock, for Age
  int64_t expires_ms = 0;         // wall clock end of freshness
  int64_t age_s = 0;              // the upstream's Age when stored
  size_t bytes = 0;               // accounted size (key, headers, body)
};

struct CacheLimits {
  uint64_t memory = 64ull * 1024 * 1024;  // bytes, node-wide
  uint64_t max_entries = 10'000;
  bool operator==(const CacheLimits&) const = default;
};

struct CacheStats {
  uint64_t hits = 0, misses = 0, expired = 0, bypasses = 0, stores = 0, evictions = 0;
  uint64_t hit_bytes = 0;
  uint64_t bytes = 0, entries = 0;
};

class ResponseCache {
 public:
  static constexpr size_t kShards = 16;
  explicit ResponseCache(CacheLimits limits);

  // The entry, refreshed in the LRU; null when absent.
  std::shared_ptr<const CacheEntry> get(const std::string& key);
  // Inserts or replaces; evicts least recently used entries of the shard to
  // make room. False (nothing stored) when the entry alone is too large.
  bool put(const std::string& key, std::shared_ptr<const CacheEntry> e);
  void erase(const std::string& key);
  // Removes the entries of one route, or all with an empty name; returns how
  // many.
  size_t purge(std::string_view route);

  enum class Count { kHit, kMiss, kExpired, kBypass };
  void count(const std::string& key, Count c, uint64_t bytes = 0);
  CacheStats stats() const;
  const CacheLimits& limits() const { return limits_; }

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const CacheEntry> entry;
  };
  struct alignas(64) Shard {
    std::mutex mu;
    std::list<Node> lru;  // most recently used first
    std::unordered_map<std::string_view, std::list<Node>::iterator> index;  // views into lru keys
    uint64_t bytes = 0;
    std::atomic<uint64_t> hits{0}, misses{0}, expired{0}, bypasses{0}, stores{0}, evictions{0},
        hit_bytes{0};
  };
  Shard& shard_for(std::string_view key);
  void unlink(Shard& s, std::list<Node>::iterator it);

  CacheLimits limits_;
  uint64_t shard_bytes_;
  uint64_t shard_entries_;
  std::unique_ptr<Shard[]> shards_;
};

// Caches by name (a route's, or a global attachment's), so that a reload
// with the same limits keeps the stored responses, and so that the admin API
// and /metrics can reach them. Used on the control thread only.
class CacheRegistry {
 public:
  static CacheRegistry& instance();
  std::shared_ptr<ResponseCache> get(const std::string& name, const CacheLimits& limits);
  // Purges one route's entries in every cache (all entries with an empty route).
  size_t purge(std::string_view route);
  std::string render_metrics();

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::weak_ptr<ResponseCache>> caches_;
};

// Prometheus text for every live cache (appended to /metrics).
std::string render_cache_metrics();

}  // namespace gatehouse::policy
