// The node-local counter store: exact across worker threads without a global
// lock. Keys spread over 64 shards (stable_hash), each a mutex and a hash map;
// the critical section is a lookup and a few integer operations. Entries that
// say nothing any more are swept by the shard itself, at most once per
// min(window, 60s), so no timer thread is needed.
#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/strings.hpp"
#include "policies/rate_limit/counter_store.hpp"

namespace gatehouse::policy::rate_limit {

namespace {

struct KeyHash {
  using is_transparent = void;  // find() by string_view: no allocation per hit
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class State>
struct Ops;

template <>
struct Ops<WindowState> {
  static Decision hit(WindowState& s, const Limit& l, int64_t now) {
    return sliding_window_hit(s, l, now);
  }
  static bool idle(const WindowState& s, const Limit& l, int64_t now) {
    return sliding_window_idle(s, l, now);
  }
};

template <>
struct Ops<BucketState> {
  static Decision hit(BucketState& s, const Limit& l, int64_t now) {
    return token_bucket_hit(s, l, now);
  }
  static bool idle(const BucketState& s, const Limit& l, int64_t now) {
    return token_bucket_idle(s, l, now);
  }
};

template <class State>
class LocalStore final : public CounterStore {
 public:
  explicit LocalStore(const Limit& l)
      : limit_(l), sweep_every_ms_(std::clamp<int64_t>(l.window_ms, 1'000, 60'000)) {}

  Decision hit(std::string_view key, int64_t now_ms) override {
    Shard& sh = shards_[stable_hash(key) % kShards];
    std::lock_guard lock(sh.mu);
    if (now_ms >= sh.next_sweep_ms) {
      std::erase_if(sh.map,
                    [&](const auto& kv) { return Ops<State>::idle(kv.second, limit_, now_ms); });
      sh.next_sweep_ms = now_ms + sweep_every_ms_;
    }
    auto it = sh.map.find(key);
    if (it == sh.map.end()) it = sh.map.emplace(std::string(key), State{}).first;
    return Ops<State>::hit(it->second, limit_, now_ms);
  }

  size_t size() const override {
    size_t n = 0;
    for (auto& sh : shards_) {
      std::lock_guard lock(sh.mu);
      n += sh.map.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 64;
  // One cache line per shard head so neighbouring locks do not false-share.
  struct alignas(64) Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, State, KeyHash, std::equal_to<>> map;
    int64_t next_sweep_ms = 0;
  };

  const Limit limit_;
  const int64_t sweep_every_ms_;
  std::array<Shard, kShards> shards_;
};

}  // namespace

std::shared_ptr<CounterStore> make_local_store(const Limit& limit) {
  if (limit.algorithm == Algorithm::kTokenBucket)
    return std::make_shared<LocalStore<BucketState>>(limit);
  return std::make_shared<LocalStore<WindowState>>(limit);
}

}  // namespace gatehouse::policy::rate_limit
