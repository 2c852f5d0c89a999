// Remembers (username, password) pairs that already passed PBKDF2 so a
// repeat request costs one SHA-256 instead of thousands of HMAC rounds.
//
// One slot per worker: a worker thread only ever touches its own slot, so
// there is no lock and no sharing on the hot path (Envoy's thread-local
// slots). Slots are cache-line aligned so neighbours do not false-share.
// Only successes are stored (a failure must never be cheaper to retry than
// to make), and each slot is bounded by two generations: when the young one
// fills, it becomes the old one and the previous old one is dropped. A hit
// in the old generation is promoted, so pairs in use survive (approximate LRU
// without a list).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

namespace gatehouse::policy::basic_auth {

template <class V>
class VerifyCache {
 public:
  // `capacity` is per worker; 0 disables the cache.
  VerifyCache(size_t workers, size_t capacity)
      : workers_(capacity ? workers : 0),
        half_(capacity / 2 ? capacity / 2 : 1),
        slots_(workers_ ? std::make_unique<Slot[]>(workers_) : nullptr) {}

  // nullptr on a miss, or when `worker` has no slot (then nothing is cached).
  const V* find(size_t worker, const std::string& key) {
    if (worker >= workers_) return nullptr;
    Slot& s = slots_[worker];
    if (auto it = s.young.find(key); it != s.young.end()) return &it->second;
    auto old = s.old.find(key);
    if (old == s.old.end()) return nullptr;
    V v = old->second;
    s.old.erase(old);
    return put(s, key, v);
  }

  void insert(size_t worker, const std::string& key, const V& value) {
    if (worker < workers_) put(slots_[worker], key, value);
  }

  size_t size(size_t worker) const {
    return worker < workers_ ? slots_[worker].young.size() + slots_[worker].old.size() : 0;
  }

 private:
  struct alignas(64) Slot {
    std::unordered_map<std::string, V> young;
    std::unordered_map<std::string, V> old;
  };

  const V* put(Slot& s, const std::string& key, const V& value) {
    if (s.young.size() >= half_) {
      s.old = std::move(s.young);
      s.young = {};
    }
    return &s.young.insert_or_assign(key, value).first->second;
  }

  size_t workers_;
  size_t half_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace gatehouse::policy::basic_auth
