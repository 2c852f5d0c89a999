#include "policies/proxy_cache/cache_store.hpp"

#include <algorithm>
#include <functional>
#include <map>

#include "common/metrics.hpp"

namespace gatehouse::policy {

ResponseCache::ResponseCache(CacheLimits limits)
    : limits_(limits),
      shard_bytes_(std::max<uint64_t>(1, limits.memory / kShards)),
      shard_entries_(std::max<uint64_t>(1, (limits.max_entries + kShards - 1) / kShards)),
      shards_(new Shard[kShards]) {}

ResponseCache::Shard& ResponseCache::shard_for(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

void ResponseCache::unlink(Shard& s, std::list<Node>::iterator it) {
  s.bytes -= it->entry->bytes;
  s.index.erase(it->key);
  s.lru.erase(it);
}

std::shared_ptr<const CacheEntry> ResponseCache::get(const std::string& key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto it = s.index.find(key);
  if (it == s.index.end()) return nullptr;
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->entry;
}

bool ResponseCache::put(const std::string& key, std::shared_ptr<const CacheEntry> e) {
  Shard& s = shard_for(key);
  if (e->bytes > shard_bytes_) return false;
  std::lock_guard lock(s.mu);
  if (auto it = s.index.find(key); it != s.index.end()) unlink(s, it->second);
  while (!s.lru.empty() && (s.bytes + e->bytes > shard_bytes_ || s.lru.size() >= shard_entries_)) {
    unlink(s, std::prev(s.lru.end()));
    s.evictions.fetch_add(1, std::memory_order_relaxed);
  }
  s.bytes += e->bytes;
  s.lru.push_front(Node{key, std::move(e)});
  s.index.emplace(s.lru.front().key, s.lru.begin());
  s.stores.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ResponseCache::erase(const std::string& key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.index.find(key); it != s.index.end()) unlink(s, it->second);
}

size_t ResponseCache::purge(std::string_view route) {
  size_t n = 0;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      auto next = std::next(it);
      if (route.empty() || it->entry->route == route) {
        unlink(s, it);
        ++n;
      }
      it = next;
    }
  }
  return n;
}

void ResponseCache::count(const std::string& key, Count c, uint64_t bytes) {
  Shard& s = shard_for(key);
  switch (c) {
    case Count::kHit:
      s.hits.fetch_add(1, std::memory_order_relaxed);
      s.hit_bytes.fetch_add(bytes, std::memory_order_relaxed);
      break;
    case Count::kMiss: s.misses.fetch_add(1, std::memory_order_relaxed); break;
    case Count::kExpired: s.expired.fetch_add(1, std::memory_order_relaxed); break;
    case Count::kBypass: s.bypasses.fetch_add(1, std::memory_order_relaxed); break;
  }
}

CacheStats ResponseCache::stats() const {
  CacheStats out;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = shards_[i];
    out.hits += s.hits.load(std::memory_order_relaxed);
    out.misses += s.misses.load(std::memory_order_relaxed);
    out.expired += s.expired.load(std::memory_order_relaxed);
    out.bypasses += s.bypasses.load(std::memory_order_relaxed);
    out.stores += s.stores.load(std::memory_order_relaxed);
    out.evictions += s.evictions.load(std::memory_order_relaxed);
    out.hit_bytes += s.hit_bytes.load(std::memory_order_relaxed);
    std::lock_guard lock(s.mu);
    out.bytes += s.bytes;
    out.entries += s.lru.size();
  }
  return out;
}

CacheRegistry& CacheRegistry::instance() {
  static CacheRegistry r;
  return r;
}

std::shared_ptr<ResponseCache> CacheRegistry::get(const std::string& name,
                                                  const CacheLimits& limits) {
  std::lock_guard lock(mu_);
  for (auto it = caches_.begin(); it != caches_.end();)
    it = it->second.expired() ? caches_.erase(it) : std::next(it);
  if (auto it = caches_.find(name); it != caches_.end()) {
    auto c = it->second.lock();
    if (c && c->limits() == limits) return c;
  }
  auto c = std::make_shared<ResponseCache>(limits);
  caches_[name] = c;
  return c;
}

size_t CacheRegistry::purge(std::string_view route) {
  std::vector<std::shared_ptr<ResponseCache>> live;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, w] : caches_)
      if (auto c = w.lock()) live.push_back(std::move(c));
  }
  size_t n = 0;
  for (auto& c : live) n += c->purge(route);
  return n;
}

std::string CacheRegistry::render_metrics() {
  std::map<std::string, CacheStats> by_name;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, w] : caches_)
      if (auto c = w.lock()) by_name[name] = c->stats();
  }
  if (by_name.empty()) return {};
  std::string out =
      "# HELP gatehouse_proxy_cache_requests_total proxy-cache lookups by outcome.\n"
      "# TYPE gatehouse_proxy_cache_requests_total counter\n";
  auto line = [](std::string& o, const char* metric, const std::string& labels, uint64_t v) {
    o += metric;
    o += "{" + labels + "} " + std::to_string(v) + "\n";
  };
  for (const auto& [name, s] : by_name) {
    std::string l = "cache=\"" + metrics::label_escape(name) + "\"";
    line(out, "gatehouse_proxy_cache_requests_total", l + ",status=\"hit\"", s.hits);
    line(out, "gatehouse_proxy_cache_requests_total", l + ",status=\"miss\"", s.misses);
    line(out, "gatehouse_proxy_cache_requests_total", l + ",status=\"expired\"", s.expired);
    line(out, "gatehouse_proxy_cache_requests_total", l + ",status=\"bypass\"", s.bypasses);
  }
  struct M {
    const char* name;
    const char* type;
    const char* help;
    uint64_t CacheStats::*field;
  };
  static constexpr M kMetrics[] = {
      {"gatehouse_proxy_cache_hit_bytes_total", "counter", "Body bytes served from the cache.",
       &CacheStats::hit_bytes},
      {"gatehouse_proxy_cache_stores_total", "counter", "Responses stored.", &CacheStats::stores},
      {"gatehouse_proxy_cache_evictions_total", "counter", "Entries evicted to make room.",
       &CacheStats::evictions},
      {"gatehouse_proxy_cache_bytes", "gauge", "Bytes held by the cache.", &CacheStats::bytes},
      {"gatehouse_proxy_cache_entries", "gauge", "Entries held by the cache.",
       &CacheStats::entries},
  };
  for (const auto& m : kMetrics) {
    out += std::string("# HELP ") + m.name + " " + m.help + "\n# TYPE " + m.name + " " + m.type +
           "\n";
    for (const auto& [name, s] : by_name)
      line(out, m.name, "cache=\"" + metrics::label_escape(name) + "\"", s.*(m.field));
  }
  return out;
}

std::string render_cache_metrics() {
  return CacheRegistry::instance().render_metrics();
}

}  // namespace gatehouse::policy
