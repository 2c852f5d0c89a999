// The semantic LLM response cache: completed answers found again by the
// meaning of the last user turn. A request is split in two: its context
// (scope, model, system prompt, every earlier turn, tools, sampling
// parameters) must match exactly and is hashed like the exact cache's key;
// only the last user turn's text is embedded and compared by cosine
// similarity. Each context is one partition with its own HNSW index
// (hnswlib), so a close vector under another context, consumer or tool set
// can never be returned: the exact part is a partition key, not a filter on
// the nearest neighbours. Bounded in entries and time, 16 mutex-guarded
// shards by partition (no global lock).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ai/translate/ir.hpp"

namespace gatehouse::ai::cache {

struct SemanticLimits {
  size_t max_entries = 1000;
  size_t max_entry_bytes = 1024 * 1024;
  int64_t ttl_ms = 300'000;
  double threshold = 0.95;  // cosine similarity at or above which an entry answers
};

// Node-wide counters for /metrics.
struct SemanticStats {
  std::atomic<uint64_t> hits{0}, misses{0}, bypasses{0}, skips{0}, errors{0}, stores{0},
      evictions{0}, too_large{0};
};
SemanticStats& semantic_stats();
std::string render_semantic_metrics();

// How a request is looked up: `context` must match exactly, `text` is embedded.
struct SemanticKey {
  std::string context;  // SHA-256 hex of the scope and the request without its last turn's text
  std::string text;     // the last user turn's text parts, joined by "\n"
};
// Null when the request does not end with a user turn made only of text
// (a tool result, an image): such requests are not cached semantically.
std::optional<SemanticKey> semantic_key(std::string_view scope, std::string_view resolved_model,
                                        const Request& req);

struct SemanticLookup {
  std::shared_ptr<const Response> answer;  // null: no entry at or above the threshold
  double similarity = -1;                  // of the closest live entry; -1: none in the context
};

class SemanticCache {
 public:
  explicit SemanticCache(SemanticLimits limits);
  ~SemanticCache();
  SemanticCache(const SemanticCache&) = delete;
  SemanticCache& operator=(const SemanticCache&) = delete;

  // The closest live entry of `context` to `vec` (normalised here).
  SemanticLookup get(const std::string& context, std::vector<float> vec, int64_t now_ms);
  // Stores a completed answer; false when too large or of another dimension
  // than the context's earlier vectors.
  bool put(const std::string& context, std::vector<float> vec, Response r, int64_t now_ms);

  size_t entries() const;
  size_t partitions() const;
  const SemanticLimits& limits() const { return limits_; }

 private:
  struct Partition;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::unique_ptr<Partition>> parts;
    // Insertion order, oldest at the back: with one TTL for all entries this
    // is also expiry order, so eviction and expiry pop the same end.
    std::list<std::pair<std::string, size_t>> order;
    size_t live = 0;
  };
  Shard& shard(std::string_view context);
  // Removes one entry (if still there); drops an emptied partition.
  void drop(Shard& s, const std::string& context, size_t label);

  SemanticLimits limits_;
  size_t shard_entries_;
  std::array<Shard, 16> shards_;
};

// Scales `v` to unit length (cosine similarity becomes the inner product);
// false for an empty or all-zero vector.
bool normalise(std::vector<float>& v);

}  // namespace gatehouse::ai::cache
