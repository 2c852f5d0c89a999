// This node's view of cluster-wide counts and the merge with the store's
// replies. No I/O and no clock here: the endpoint thread drives collect /
// apply / fail, workers call hit(), tests call all of them with made-up times.
#include <algorithm>

#include "common/strings.hpp"
#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::rate_limit {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// Keys stay readable in redis-cli while any byte (header values, SHA-256
// digests of long ones) is representable; ':' is kept, as the window index
// is always the last field.
void append_encoded(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (c > 0x20 && c < 0x7f && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

}  // namespace

std::string redis_key(std::string_view prefix, std::string_view scope, std::string_view limit_key,
                      int64_t window_index) {
  std::string k;
  k.reserve(prefix.size() + scope.size() + limit_key.size() + 24);
  k += prefix;
  append_encoded(k, scope);
  k += ':';
  append_encoded(k, limit_key);
  k += ':';
  k += std::to_string(window_index);
  return k;
}

ClusterCounter::ClusterCounter(const Limit& limit, std::string prefix, std::string scope,
                               int64_t sync_interval_ms, int64_t timeout_ms, bool fail_closed)
    : limit_(limit),
      prefix_(std::move(prefix)),
      scope_(std::move(scope)),
      sync_interval_ms_(sync_interval_ms),
      settle_ms_(sync_interval_ms + timeout_ms),
      fail_closed_(fail_closed) {}

void ClusterCounter::roll(Entry& e, int64_t idx) {
  if (idx == e.curr.window + 1) {
    e.prev = e.curr;
    e.prev.settled = false;  // other nodes may still push into it
  } else {
    e.prev = Slot{};
    e.prev.window = idx - 1;
  }
  e.curr = Slot{};
  e.curr.window = idx;
}

ClusterCounter::Slot* ClusterCounter::find_slot(Entry& e, int64_t window) const {
  if (e.curr.window == window) return &e.curr;
  if (e.prev.window == window) return &e.prev;
  return nullptr;
}

Decision ClusterCounter::hit(std::string_view key, int64_t now_ms) {
  // Closed: nothing is decided without the cluster's counts, and nothing is
  // counted, so the outage does not eat anybody's budget.
  if (fail_closed_ && state_.load(std::memory_order_relaxed) == StoreState::kDown) {
    Decision d;
    d.limit = limit_.requests;
    d.store_unavailable = true;
    return d;
  }
  const int64_t idx = floor_div(now_ms, limit_.window_ms);
  Shard& sh = shards_[stable_hash(key) % kShards];
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(key);
  if (it == sh.map.end()) {
    Entry fresh;
    fresh.curr.window = idx;
    fresh.prev.window = idx - 1;
    fresh.used_window = idx;
    it = sh.map.emplace(std::string(key), fresh).first;
  }
  Entry& e = it->second;
  if (idx > e.curr.window) roll(e, idx);
  e.used_window = e.curr.window;
  e.warm = kWarmRounds;
  // The local store's arithmetic on the merged counts; a clock read that lost
  // the race for the lock is counted in the newer window there too.
  WindowState s{e.curr.window, e.curr.count(), e.prev.count()};
  Decision d = sliding_window_hit(s, limit_, now_ms);
  if (d.allowed) ++e.curr.pending;
  return d;
}

void ClusterCounter::collect(int64_t now_ms, SyncBatch& batch) {
  const int64_t w = limit_.window_ms;
  const int64_t idx = floor_div(now_ms, w);
  const bool settles = now_ms - idx * w >= settle_ms_;
  // A window's key is read as "previous" until the end of the next window;
  // its last increment is made during it at the latest.
  const int64_t ttl = 2 * w;
  for (uint32_t i = 0; i < kShards; ++i) {
    Shard& sh = shards_[i];
    std::lock_guard lock(sh.mu);
    for (auto it = sh.map.begin(); it != sh.map.end();) {
      Entry& e = it->second;
      // Two windows after its last use nothing in the entry weighs any more
      // (and nothing is in flight: rounds do not overlap).
      if (idx >= e.used_window + 2) {
        it = sh.map.erase(it);
        continue;
      }
      if (idx > e.curr.window) roll(e, idx);
      auto add = [&](Slot& s, bool read, bool final_read) {
        if (s.pending == 0 && !read) return;
        batch.ops.push_back(
            {redis_key(prefix_, scope_, it->first, s.window), s.pending, s.pending > 0 ? ttl : 0});
        batch.targets.push_back({i, it->first, s.window, s.pending, final_read});
        s.in_flight += s.pending;
        s.pending = 0;
      };
      const bool read = e.warm > 0;
      add(e.curr, read, false);
      add(e.prev, read && !e.prev.settled, settles);
      if (e.warm > 0) --e.warm;
      ++it;
    }
  }
}

void ClusterCounter::apply(const SyncBatch& batch, size_t begin, size_t end,
                           const std::vector<int64_t>& totals) {
  for (size_t i = begin; i < end && i < totals.size(); ++i) {
    const SyncBatch::Target& t = batch.targets[i];
    Shard& sh = shards_[t.shard];
    std::lock_guard lock(sh.mu);
    auto it = sh.map.find(t.key);
    if (it == sh.map.end()) continue;
    Slot* s = find_slot(it->second, t.window);
    if (!s) continue;  // the round outlived the window: nothing uses it any more
    // The total includes what we just sent (INCRBY answers after adding), so
    // the in-flight part becomes part of `known` and is not counted twice.
    s->in_flight -= t.delta;
    s->known = totals[i];
    if (t.settles) s->settled = true;
  }
}

void ClusterCounter::fail(const SyncBatch& batch, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    const SyncBatch::Target& t = batch.targets[i];
    Shard& sh = shards_[t.shard];
    std::lock_guard lock(sh.mu);
    auto it = sh.map.find(t.key);
    if (it == sh.map.end()) continue;
    it->second.warm = std::max(it->second.warm, 1);  // read again next round
    if (Slot* s = find_slot(it->second, t.window)) {
      s->in_flight -= t.delta;
      s->pending += t.delta;
    }
  }
}

size_t ClusterCounter::size() const {
  size_t n = 0;
  for (const auto& sh : shards_) {
    std::lock_guard lock(sh.mu);
    n += sh.map.size();
  }
  return n;
}

ClusterCounter::SlotView ClusterCounter::slot(std::string_view key, int64_t window) const {
  const Shard& sh = shards_[stable_hash(key) % kShards];
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(key);
  if (it == sh.map.end()) return {};
  Entry e = it->second;
  const Slot* s = find_slot(e, window);
  if (!s) return {};
  return {s->known, s->in_flight, s->pending};
}

}  // namespace gatehouse::policy::rate_limit
