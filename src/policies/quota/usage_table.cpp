#include "policies/quota/usage_table.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace gatehouse::policy::quota {

UsageTable::UsageTable(Period period, int64_t limit, CountMode mode)
    : period_(period), limit_(limit), mode_(mode) {}

UsageTable::Shard& UsageTable::shard_for(std::string_view key) const {
  return shards_[stable_hash(key) % kShards];
}

void UsageTable::mark_counted(Shard& sh, const std::string& key, Entry& e, int64_t n) {
  e.count += n;
  e.unsaved += n;
  if (!e.listed) {
    e.listed = true;
    sh.dirty.push_back(key);
  }
}

// A new period starts from zero; what the old one still owes the database is
// kept aside so it is saved under the old period_start.
void UsageTable::roll_over(Shard& sh, const std::string& key, Entry& e, int64_t period_start) {
  if (e.unsaved > 0) sh.past.push_back({key, e.period_start, e.unsaved});
  e.period_start = period_start;
  e.count = 0;
  e.in_flight = 0;  // calls of the old period settle into `past` (see settle())
  e.unsaved = 0;    // `listed` stays: the key may still be in `dirty`
}

// Entries of ended periods with nothing left to save say nothing any more.
void UsageTable::sweep(Shard& sh, int64_t current_start, int64_t now_s) {
  std::erase_if(sh.map, [&](const auto& kv) {
    const Entry& e = kv.second;
    return e.period_start < current_start && e.unsaved == 0 && !e.listed;
  });
  sh.next_sweep_s = now_s + kSweepEveryS;
}

Usage UsageTable::admit(std::string_view key, int64_t now_s, int64_t amount) {
  int64_t start = period_start(period_, now_s);
  Shard& sh = shard_for(key);
  std::lock_guard lock(sh.mu);
  if (now_s >= sh.next_sweep_s) sweep(sh, start, now_s);
  auto it = sh.map.find(key);
  if (it == sh.map.end()) it = sh.map.emplace(std::string(key), Entry{start}).first;
  Entry& e = it->second;
  if (e.period_start < start)
    roll_over(sh, it->first, e, start);
  else if (e.period_start > start)
    start =
        e.period_start;  // our clock read lost the race at a boundary: count in the newer period

  Usage u;
  u.limit = limit_;
  u.period_start = start;
  u.reset_at = next_period_start(period_, start);
  int64_t used = e.count + e.in_flight;
  u.remaining = std::max<int64_t>(limit_ - used, 0);
  if (used + amount > limit_) return u;  // refused, not counted
  u.allowed = true;
  u.remaining = limit_ - used - amount;
  if (mode_ == CountMode::kAll)
    mark_counted(sh, it->first, e, amount);
  else
    e.in_flight += amount;
  return u;
}

void UsageTable::settle(std::string_view key, int64_t period_start, bool counted) {
  settle(key, period_start, 1, counted ? 1 : 0);
}

void UsageTable::settle(std::string_view key, int64_t period_start, int64_t reserved,
                        int64_t actual) {
  Shard& sh = shard_for(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(key);
  if (it != sh.map.end() && it->second.period_start == period_start) {
    Entry& e = it->second;
    e.in_flight -= std::min(e.in_flight, reserved);
    if (actual > 0) mark_counted(sh, it->first, e, actual);
    return;
  }
  // The period ended while the call was in flight: it still belongs to the
  // period that admitted it, which only the database cares about now.
  if (actual > 0) sh.past.push_back({std::string(key), period_start, actual});
}

void UsageTable::seed(std::string_view key, int64_t period_start, int64_t count) {
  Shard& sh = shard_for(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(key);
  if (it == sh.map.end()) it = sh.map.emplace(std::string(key), Entry{period_start}).first;
  Entry& e = it->second;
  if (e.period_start != period_start) return;  // only the current period is ever seeded
  e.count += count;
}

std::vector<Delta> UsageTable::take_deltas() {
  std::vector<Delta> out;
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mu);
    for (auto& d : sh.past) out.push_back(std::move(d));
    sh.past.clear();
    for (const auto& key : sh.dirty) {
      auto it = sh.map.find(key);
      if (it == sh.map.end()) continue;
      Entry& e = it->second;
      if (e.unsaved > 0) out.push_back({key, e.period_start, e.unsaved});
      e.unsaved = 0;
      e.listed = false;
    }
    sh.dirty.clear();
  }
  return out;
}

int64_t UsageTable::used(std::string_view key, int64_t now_s) const {
  int64_t start = period_start(period_, now_s);
  Shard& sh = shard_for(key);
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(key);
  if (it == sh.map.end() || it->second.period_start != start) return 0;
  return it->second.count;
}

size_t UsageTable::size() const {
  size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mu);
    n += sh.map.size();
  }
  return n;
}

}  // namespace gatehouse::policy::quota
