#include "ai/cache/semantic_cache.hpp"

// hnswlib 0.6's SSE paths prefetch one entry past the end of a neighbour
// list (searchBaseLayer reads *(datal + j + 1)): an out-of-bounds read that
// ASan reports. Without manual vectorisation those prefetches are compiled
// out; the distances of our small vectors stay cheap.
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "ai/cache/exact_cache.hpp"

namespace gatehouse::ai::cache {

namespace {

constexpr size_t kInitialCapacity = 8;  // points per partition index before it grows
constexpr size_t kM = 16;               // HNSW links per node (hnswlib's default)
constexpr size_t kEfConstruction = 100;
constexpr size_t kEfSearch = 32;
constexpr size_t kNeighbours = 4;  // the best of a few: the closest may have expired

}  // namespace

SemanticStats& semantic_stats() {
  static SemanticStats s;
  return s;
}

std::string render_semantic_metrics() {
  auto& s = semantic_stats();
  auto line = [](const char* result, const std::atomic<uint64_t>& v) {
    return std::string("gatehouse_llm_semantic_cache_total{result=\"") + result + "\"} " +
           std::to_string(v.load(std::memory_order_relaxed)) + "\n";
  };
  return "# HELP gatehouse_llm_semantic_cache_total LLM semantic cache lookups (hit, miss, "
         "bypass: Cache-Control; skip: no trailing user text turn; error: the embeddings call "
         "failed), stores, evictions and answers too large to store.\n"
         "# TYPE gatehouse_llm_semantic_cache_total counter\n" +
         line("hit", s.hits) + line("miss", s.misses) + line("bypass", s.bypasses) +
         line("skip", s.skips) + line("error", s.errors) + line("store", s.stores) +
         line("evict", s.evictions) + line("too_large", s.too_large);
}

bool normalise(std::vector<float>& v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  if (v.empty() || !(n > 0) || !std::isfinite(n)) return false;
  n = std::sqrt(n);
  for (auto& x : v) x = static_cast<float>(x / n);
  return true;
}

std::optional<SemanticKey> semantic_key(std::string_view scope, std::string_view resolved_model,
                                        const Request& req) {
  if (req.messages.empty()) return std::nullopt;
  const Message& last = req.messages.back();
  if (last.role != Role::kUser || last.parts.empty()) return std::nullopt;
  SemanticKey k;
  for (const auto& p : last.parts) {
    if (p.kind != PartKind::kText) return std::nullopt;
    if (!k.text.empty()) k.text += '\n';
    k.text += p.text;
  }
  if (k.text.empty()) return std::nullopt;
  // The context is the request with the last turn's text taken out: every
  // other byte of the conversation (and the turn's position) still counts.
  Request ctx = req;
  Part placeholder;
  placeholder.text = "[last user turn]";
  ctx.messages.back().parts.assign(1, placeholder);
  k.context = request_key(std::string(scope) + "\nsemantic", resolved_model, ctx);
  return k;
}

struct SemanticCache::Partition {
  struct Slot {
    std::shared_ptr<const Response> value;
    std::vector<float> vec;
    int64_t expires_ms = 0;
  };

  explicit Partition(size_t d) : dim(d), space(d) { build(kInitialCapacity); }

  void build(size_t cap) {
    capacity = cap;
    added = 0;
    index = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, cap, kM, kEfConstruction);
    index->setEf(kEfSearch);
  }
  // Adds a point that is not in `slots` yet. hnswlib's index has a fixed
  // capacity and only marks deletions: a full index of mostly deleted points
  // is rebuilt from the live ones, else it doubles.
  void add(size_t label, const std::vector<float>& vec) {
    if (added == capacity) {
      if (slots.size() * 2 <= added) {
        build(std::max(kInitialCapacity, slots.size() * 2));
        for (const auto& [l, s] : slots) {
          index->addPoint(s.vec.data(), l);
          ++added;
        }
      } else {
        capacity *= 2;
        index->resizeIndex(capacity);
      }
    }
    index->addPoint(vec.data(), label);
    ++added;
  }
  void remove(size_t label) {
    if (slots.erase(label)) index->markDelete(label);
  }

  size_t dim;
  hnswlib::InnerProductSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index;
  size_t capacity = 0;
  size_t added = 0;  // points in the index, deleted ones included
  size_t next_label = 0;
  std::unordered_map<size_t, Slot> slots;  // live entries by hnswlib label
};

SemanticCache::SemanticCache(SemanticLimits limits)
    : limits_(limits), shard_entries_(std::max<size_t>(1, (limits.max_entries + 15) / 16)) {}

SemanticCache::~SemanticCache() = default;

SemanticCache::Shard& SemanticCache::shard(std::string_view context) {
  return shards_[std::hash<std::string_view>{}(context) % shards_.size()];
}

void SemanticCache::drop(Shard& s, const std::string& context, size_t label) {
  auto it = s.parts.find(context);
  if (it == s.parts.end()) return;
  if (it->second->slots.count(label)) --s.live;
  it->second->remove(label);
  if (it->second->slots.empty()) s.parts.erase(it);
}

SemanticLookup SemanticCache::get(const std::string& context, std::vector<float> vec,
                                  int64_t now_ms) {
  SemanticLookup out;
  if (!normalise(vec)) return out;
  Shard& s = shard(context);
  std::lock_guard lock(s.mu);
  auto it = s.parts.find(context);
  if (it == s.parts.end() || it->second->dim != vec.size()) return out;
  Partition& p = *it->second;
  auto found = p.index->searchKnn(vec.data(), std::min(kNeighbours, p.slots.size()));
  while (!found.empty()) {
    auto [dist, label] = found.top();
    found.pop();
    auto slot = p.slots.find(label);
    if (slot == p.slots.end() || slot->second.expires_ms <= now_ms) continue;
    const double sim = 1.0 - static_cast<double>(dist);  // hnswlib's IP distance is 1 - dot
    if (sim <= out.similarity) continue;
    out.similarity = sim;
    out.answer = sim >= limits_.threshold ? slot->second.value : nullptr;
  }
  return out;
}

bool SemanticCache::put(const std::string& context, std::vector<float> vec, Response r,
                        int64_t now_ms) {
  auto& stats = semantic_stats();
  const size_t bytes = response_bytes(r) + vec.size() * sizeof(float) + context.size();
  if (bytes > limits_.max_entry_bytes || !normalise(vec)) {
    stats.too_large.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  auto value = std::make_shared<const Response>(std::move(r));
  Shard& s = shard(context);
  std::lock_guard lock(s.mu);
  auto it = s.parts.find(context);
  if (it != s.parts.end() && it->second->dim != vec.size()) return false;
  // Expired entries from the old end, then the oldest while the shard is full.
  while (!s.order.empty()) {
    const auto& [ctx, label] = s.order.back();
    auto pit = s.parts.find(ctx);
    bool live = pit != s.parts.end() && pit->second->slots.count(label);
    bool expired = live && pit->second->slots.at(label).expires_ms <= now_ms;
    if (live && !expired && s.live < shard_entries_) break;
    if (live && !expired) stats.evictions.fetch_add(1, std::memory_order_relaxed);
    drop(s, ctx, label);
    s.order.pop_back();
  }
  it = s.parts.find(context);  // the loop may have dropped it
  if (it == s.parts.end())
    it = s.parts.emplace(context, std::make_unique<Partition>(vec.size())).first;
  Partition& p = *it->second;
  const size_t label = p.next_label++;
  p.add(label, vec);
  p.slots.emplace(label, Partition::Slot{std::move(value), std::move(vec), now_ms + limits_.ttl_ms});
  s.order.emplace_front(context, label);
  ++s.live;
  stats.stores.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t SemanticCache::entries() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.live;
  }
  return n;
}

size_t SemanticCache::partitions() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.parts.size();
  }
  return n;
}

}  // namespace gatehouse::ai::cache
