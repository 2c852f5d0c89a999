#include "mcp/server/list_cache.hpp"

#include <array>
#include <atomic>
#include <functional>
#include <unordered_map>

namespace gatehouse::mcp::list_cache {

namespace {

constexpr size_t kSlots = 256;

std::array<std::atomic<uint64_t>, kSlots>& epochs() {
  static std::array<std::atomic<uint64_t>, kSlots> e{};
  return e;
}

std::atomic<uint64_t>& slot(std::string_view server) {
  return epochs()[std::hash<std::string_view>{}(server) % kSlots];
}

struct Entry {
  std::string server;
  uint64_t epoch = 0;
  int64_t at_ms = 0;
  std::vector<boost::json::object> items;
};

std::unordered_map<std::string, Entry>& entries() {
  thread_local std::unordered_map<std::string, Entry> m;
  return m;
}

bool fresh(const Entry& e, int64_t now_ms) {
  return now_ms - e.at_ms < kTtlMs && e.epoch == epoch(e.server);
}

}  // namespace

void invalidate(std::string_view server) { slot(server).fetch_add(1, std::memory_order_relaxed); }

uint64_t epoch(std::string_view server) { return slot(server).load(std::memory_order_relaxed); }

const std::vector<boost::json::object>* find(const std::string& key, std::string_view server,
                                             int64_t now_ms) {
  auto& m = entries();
  auto it = m.find(key);
  if (it == m.end()) return nullptr;
  if (it->second.server != server || !fresh(it->second, now_ms)) {
    m.erase(it);
    return nullptr;
  }
  return &it->second.items;
}

void store(const std::string& key, std::string_view server, uint64_t epoch,
           std::vector<boost::json::object> items, int64_t now_ms) {
  auto& m = entries();
  if (m.size() >= kMaxEntries) {
    std::erase_if(m, [&](const auto& kv) { return !fresh(kv.second, now_ms); });
    if (m.size() >= kMaxEntries) m.clear();
  }
  Entry& e = m[key];
  e.server = std::string(server);
  e.epoch = epoch;
  e.at_ms = now_ms;
  e.items = std::move(items);
}

size_t size() { return entries().size(); }

}  // namespace gatehouse::mcp::list_cache
