#include "policies/concurrency_limit/in_flight.hpp"

#include "common/strings.hpp"

namespace gatehouse::policy::concurrency_limit {

InFlight::Shard& InFlight::shard(std::string_view key) {
  return shards_[stable_hash(key) % kShards];
}

const InFlight::Shard& InFlight::shard(std::string_view key) const {
  return shards_[stable_hash(key) % kShards];
}

bool InFlight::acquire(std::string_view key, int64_t max) {
  if (key.empty()) {
    int64_t cur = unkeyed_.load(std::memory_order_relaxed);
    do {
      if (cur >= max) return false;
    } while (!unkeyed_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel,
                                             std::memory_order_relaxed));
    return true;
  }
  Shard& sh = shard(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.counts.find(key);
  if (it == sh.counts.end()) {
    if (max <= 0) return false;
    sh.counts.emplace(std::string(key), 1);
    return true;
  }
  if (it->second >= max) return false;
  ++it->second;
  return true;
}

void InFlight::release(std::string_view key) {
  if (key.empty()) {
    unkeyed_.fetch_sub(1, std::memory_order_acq_rel);
    return;
  }
  Shard& sh = shard(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.counts.find(key);
  if (it == sh.counts.end()) return;  // never acquired: nothing to give back
  if (--it->second <= 0) sh.counts.erase(it);
}

int64_t InFlight::count(std::string_view key) const {
  if (key.empty()) return unkeyed_.load(std::memory_order_relaxed);
  const Shard& sh = shard(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.counts.find(key);
  return it == sh.counts.end() ? 0 : it->second;
}

size_t InFlight::keys() const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    std::lock_guard lock(sh.mu);
    n += sh.counts.size();
  }
  return n;
}

}  // namespace gatehouse::policy::concurrency_limit
