#include "mcp/server/legacy_sessions.hpp"

#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <unordered_map>

namespace gatehouse::mcp::legacy {

namespace {

constexpr size_t kShards = 16;

struct alignas(64) Shard {
  std::mutex mu;
  std::unordered_map<std::string, Entry> map;
};

struct Table {
  std::array<Shard, kShards> shards;
  std::atomic<size_t> size{0};
};

Table& table() {
  static Table t;
  return t;
}

Shard& shard_for(std::string_view id) {
  return table().shards[std::hash<std::string_view>{}(id) % kShards];
}

std::string random_id() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) std::abort();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (unsigned char c : b) {
    id += kHex[c >> 4];
    id += kHex[c & 15];
  }
  return id;
}

}  // namespace

std::string open(std::string route, std::string consumer) {
  Table& t = table();
  if (t.size.fetch_add(1, std::memory_order_relaxed) >= kMaxSessions) {
    t.size.fetch_sub(1, std::memory_order_relaxed);
    return {};
  }
  std::string id = random_id();
  Shard& sh = shard_for(id);
  std::lock_guard lock(sh.mu);
  sh.map[id] = Entry{std::move(route), std::move(consumer), {}};
  return id;
}

std::optional<Entry> find(std::string_view id) {
  Shard& sh = shard_for(id);
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(std::string(id));
  if (it == sh.map.end()) return std::nullopt;
  return it->second;
}

void set_token(std::string_view id, std::string token) {
  Shard& sh = shard_for(id);
  std::lock_guard lock(sh.mu);
  auto it = sh.map.find(std::string(id));
  if (it != sh.map.end()) it->second.token = std::move(token);
}

void close(std::string_view id) {
  Shard& sh = shard_for(id);
  std::lock_guard lock(sh.mu);
  if (sh.map.erase(std::string(id)) > 0) table().size.fetch_sub(1, std::memory_order_relaxed);
}

size_t count() { return table().size.load(std::memory_order_relaxed); }

}  // namespace gatehouse::mcp::legacy
