// Rate-limit counters behind a small interface: the local store (this node,
// exact across worker threads) and the Redis store (cluster-wide, see
// redis_store.hpp) implement the same hit(), so the policy does not change
// when counters move off the node.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace gatehouse::policy::rate_limit {

enum class Algorithm { kSlidingWindow, kTokenBucket };

struct Limit {
  Algorithm algorithm = Algorithm::kSlidingWindow;
  int64_t requests = 1;  // allowed per window (token bucket: refill per window)
  int64_t window_ms = 1000;
  int64_t burst = 0;  // token bucket capacity; 0 means `requests`

  int64_t capacity() const { return burst > 0 ? burst : requests; }
};

// The outcome of one hit, with what the RateLimit-* headers report.
struct Decision {
  bool allowed = false;
  int64_t limit = 0;           // RateLimit-Limit
  int64_t remaining = 0;       // after this request
  int64_t reset_ms = 0;        // RateLimit-Reset (see docs/policies/rate-limit.md)
  int64_t retry_after_ms = 0;  // denied: until one request would be allowed
  // Denied because the shared store is unreachable and the policy fails
  // closed: nothing was counted and the other fields mean nothing.
  bool store_unavailable = false;
};

class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // Counts one request against `key` when the limit allows it; a denied
  // request is not counted, so a client that keeps retrying is not locked out
  // for longer than the window. Thread-safe and exact across threads.
  virtual Decision hit(std::string_view key, int64_t now_ms) = 0;
  // Live entries (tests, and later a gauge).
  virtual size_t size() const = 0;
};

// Node-local store: 64 shards, each a mutex and a hash map, so threads on
// different keys rarely meet; entries that no longer matter are swept.
std::shared_ptr<CounterStore> make_local_store(const Limit& limit);

// ---- the arithmetic, exposed for tests (time is injected, never read)

// Sliding window: two fixed windows aligned to multiples of window_ms; the
// previous one's count is weighted by the share of it still inside the
// sliding window that ends now.
struct WindowState {
  int64_t window = 0;  // index of the current fixed window (now / window_ms)
  int64_t curr = 0;    // requests counted in it
  int64_t prev = 0;    // requests counted in the one before
};
Decision sliding_window_hit(WindowState& s, const Limit& l, int64_t now_ms);
// True when the entry says nothing any more (same as a fresh one).
bool sliding_window_idle(const WindowState& s, const Limit& l, int64_t now_ms);

// Token bucket: capacity() tokens, refilled at `requests` per window. Kept in
// fixed point (one token = window_ms units, refill = requests units per ms)
// so the refill is exact integer arithmetic.
struct BucketState {
  __int128 level = -1;  // units; -1 = never used (full)
  int64_t last_ms = 0;
};
Decision token_bucket_hit(BucketState& s, const Limit& l, int64_t now_ms);
bool token_bucket_idle(const BucketState& s, const Limit& l, int64_t now_ms);

}  // namespace gatehouse::policy::rate_limit
