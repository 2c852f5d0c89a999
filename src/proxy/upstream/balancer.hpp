// Load balancers. One instance per upstream per worker (no sharing, no locks);
// target health is read from the shared TargetState atomics.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/entities.hpp"

namespace gatehouse::proxy {

// Node-wide state of one target, shared by all workers (atomics only).
struct TargetState {
  std::atomic<bool> active_healthy{true};       // from active health checks
  std::atomic<int64_t> ejected_until_ms{0};     // passive outlier detection (steady clock ms)
  std::atomic<int> consecutive_5xx{0};
  std::atomic<int> consecutive_connect_failures{0};
  std::atomic<int> ejection_count{0};
  std::atomic<int> active_connections{0};       // node-wide, for the breaker and metrics
  std::atomic<int> requests_in_flight{0};

  bool available(int64_t now_ms) const {
    return active_healthy.load(std::memory_order_relaxed) &&
           ejected_until_ms.load(std::memory_order_relaxed) <= now_ms;
  }
};

// The targets a request has tried already (retries skip them). Up to 64
// targets live in one word: every proxied request makes one, and a vector
// cost it an allocation.
class TargetSet {
 public:
  static constexpr size_t kInline = 64;
  explicit TargetSet(size_t targets = 0) : n_(targets) {
    if (n_ > kInline) more_.assign(n_, false);
  }
  template <class Bools>
  static TargetSet of(const Bools& marks) {  // tests: one flag per target
    TargetSet s(marks.size());
    for (size_t i = 0; i < marks.size(); ++i) s.set(i, marks[i]);
    return s;
  }
  // Indexes past the target count are never in the set.
  bool contains(size_t i) const {
    if (i >= n_) return false;
    return n_ <= kInline ? ((bits_ >> i) & 1U) != 0 : static_cast<bool>(more_[i]);
  }
  void set(size_t i, bool in) {
    if (i >= n_) return;
    if (n_ > kInline) {
      more_[i] = in;
    } else if (in) {
      bits_ |= uint64_t{1} << i;
    } else {
      bits_ &= ~(uint64_t{1} << i);
    }
  }
  void clear() {
    bits_ = 0;
    std::fill(more_.begin(), more_.end(), false);
  }

 private:
  size_t n_;
  uint64_t bits_ = 0;
  std::vector<bool> more_;  // only past kInline targets
};

// What a balancer may hash on. Fields are empty when not available.
struct PickContext {
  std::string_view hash_key;  // already extracted per BalancerConfig.hash_on
  int64_t now_ms = 0;         // steady clock
  const TargetSet* exclude = nullptr;  // targets tried already (retries)
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // Returns a target index, or -1 when no target is available. Unavailable
  // targets (TargetState::available false, weight 0, or excluded) are skipped;
  // when every target is unavailable, balancers fall back to ignoring health
  // (panic mode, like Envoy) but never pick weight-0 or excluded targets.
  virtual int pick(const PickContext& ctx) = 0;
  // Request lifecycle hooks for least-request and EWMA.
  virtual void on_start(int /*target*/) {}
  virtual void on_finish(int /*target*/, std::chrono::microseconds /*latency*/, bool /*ok*/) {}
};

// `states` has one entry per target (same order as cfg targets) and outlives
// the balancer. `seed` randomises P2C per worker.
std::unique_ptr<Balancer> make_balancer(const config::BalancerConfig& cfg,
                                        const std::vector<config::TargetConfig>& targets,
                                        const std::vector<std::shared_ptr<TargetState>>& states,
                                        uint64_t seed);

// Consistent-hash ring (exposed for tests): virtual nodes per target scale with
// weight; adding or removing one of N targets remaps about 1/N of the keys.
class HashRing {
 public:
  HashRing(const std::vector<config::TargetConfig>& targets, int vnodes_per_weight = 160);
  // Walks the ring from hash(key); calls ok(index) until it returns true.
  template <class Pred>
  int lookup(std::string_view key, Pred ok) const;
  size_t size() const { return ring_.size(); }
  int first(std::string_view key) const;

 private:
  std::vector<std::pair<uint64_t, int>> ring_;  // sorted by hash
  size_t start_index(std::string_view key) const;
  friend class ConsistentHashBalancer;
};

template <class Pred>
int HashRing::lookup(std::string_view key, Pred ok) const {
  if (ring_.empty()) return -1;
  size_t i = start_index(key);
  for (size_t n = 0; n < ring_.size(); ++n) {
    int idx = ring_[(i + n) % ring_.size()].second;
    if (ok(idx)) return idx;
  }
  return -1;
}

}  // namespace gatehouse::proxy
