// The exact-match LLM response cache: completed answers (as IR Responses) by
// a hash of the normalised request and the caller's scope. Bounded in
// entries, bytes and time; shared by every worker of the node through 16
// mutex-guarded shards, each an LRU with a 1/16 share of the bounds, so
// workers on different keys rarely meet and no global lock exists.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ai/translate/ir.hpp"

namespace gatehouse::ai::cache {

struct CacheLimits {
  size_t max_entries = 1000;
  size_t max_bytes = 64 * 1024 * 1024;
  size_t max_entry_bytes = 1024 * 1024;
  int64_t ttl_ms = 300'000;
};

// Node-wide counters for /metrics (every cache adds to them).
struct CacheStats {
  std::atomic<uint64_t> hits{0}, misses{0}, stores{0}, evictions{0}, bypasses{0}, too_large{0};
};
CacheStats& cache_stats();
std::string render_cache_metrics();

class ExactCache {
 public:
  explicit ExactCache(CacheLimits limits);

  // A live entry, or null (expired entries are dropped on the way).
  std::shared_ptr<const Response> get(const std::string& key, int64_t now_ms);
  // Stores a completed answer; false when it is larger than max_entry_bytes.
  bool put(const std::string& key, Response r, int64_t now_ms);

  size_t entries() const;
  size_t bytes() const;
  const CacheLimits& limits() const { return limits_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Response> value;
    size_t bytes = 0;
    int64_t expires_ms = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<Entry> lru;  // front: most recently used
    std::unordered_map<std::string_view, std::list<Entry>::iterator> map;
    size_t bytes = 0;
  };
  Shard& shard(std::string_view key);
  static void drop(Shard& s, std::list<Entry>::iterator it);

  CacheLimits limits_;
  size_t shard_entries_;
  size_t shard_bytes_;
  std::array<Shard, 16> shards_;
};

// Approximate memory of a cached answer (text, tool calls, ids, overhead).
size_t response_bytes(const Response& r);

// The cache key: SHA-256 (hex) of `scope` and the request's canonical form:
// the model entry it resolved to (aliases collapse), messages, tools, tool
// choice and sampling parameters, as JSON with object keys sorted at every
// level. Streaming, usage options, end-user ids and metadata are left out:
// they do not change the answer.
std::string request_key(std::string_view scope, std::string_view resolved_model,
                        const Request& req);
// Exposed for tests: the canonical text hashed by request_key.
std::string canonical_request(std::string_view resolved_model, const Request& req);

}  // namespace gatehouse::ai::cache
