#include "mcp/metrics.hpp"

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <unordered_map>

namespace gatehouse::mcp {

namespace {

using Key = std::tuple<std::string, std::string, std::string>;
using Family = metrics::Family<McpShard>;

struct Families {
  std::mutex mu;  // first use per worker and scrapes only
  std::map<Key, std::unique_ptr<Family>> map;
  size_t workers = 1;
};
Families& families() {
  static Families f;
  return f;
}

}  // namespace

McpShard& mcp_shard(const std::string& server, const std::string& method, const std::string& name,
                    size_t worker, size_t workers) {
  thread_local std::unordered_map<std::string, Family*> cache;
  std::string key = server + '\n' + method + '\n' + name;
  auto it = cache.find(key);
  if (it == cache.end()) {
    auto& f = families();
    std::lock_guard lock(f.mu);
    auto& slot = f.map[{server, method, name}];
    if (!slot) slot = std::make_unique<Family>(workers == 0 ? 1 : workers);
    it = cache.emplace(key, slot.get()).first;
  }
  return it->second->shard(worker < it->second->shards().size() ? worker : 0);
}

std::string render_metrics() {
  auto& f = families();
  std::lock_guard lock(f.mu);
  std::string calls =
      "# HELP gatehouse_mcp_requests_total MCP requests routed to an upstream server, by server, "
      "method and name.\n# TYPE gatehouse_mcp_requests_total counter\n";
  std::string errors =
      "# HELP gatehouse_mcp_errors_total MCP requests that ended in an error (JSON-RPC error, "
      "isError result or upstream failure).\n# TYPE gatehouse_mcp_errors_total counter\n";
  std::string limited =
      "# HELP gatehouse_mcp_limited_total MCP tool calls refused by a per-tool rate limit or "
      "quota (not sent upstream).\n# TYPE gatehouse_mcp_limited_total counter\n";
  std::string lat =
      "# HELP gatehouse_mcp_request_duration_seconds Time to the upstream's response.\n"
      "# TYPE gatehouse_mcp_request_duration_seconds histogram\n";
  for (const auto& [key, fam] : f.map) {
    const auto& [server, method, name] = key;
    std::string labels = "server=\"" + metrics::label_escape(server) + "\",method=\"" +
                         metrics::label_escape(method) + "\",name=\"" +
                         metrics::label_escape(name) + "\"";
    uint64_t c = 0, e = 0, l = 0, count = 0, sum_us = 0;
    std::array<uint64_t, metrics::kLatencyBuckets.size() + 1> buckets{};
    for (const auto& s : fam->shards()) {
      c += s->calls.get();
      e += s->errors.get();
      l += s->limited.get();
      count += s->latency.count.get();
      sum_us += s->latency.sum_us.get();
      for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += s->latency.buckets[i].get();
    }
    calls += "gatehouse_mcp_requests_total{" + labels + "} " + std::to_string(c) + "\n";
    errors += "gatehouse_mcp_errors_total{" + labels + "} " + std::to_string(e) + "\n";
    if (l > 0) limited += "gatehouse_mcp_limited_total{" + labels + "} " + std::to_string(l) + "\n";
    uint64_t cum = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      cum += buckets[i];
      std::string le = i < metrics::kLatencyBuckets.size()
                           ? std::to_string(metrics::kLatencyBuckets[i])
                           : std::string("+Inf");
      if (i < metrics::kLatencyBuckets.size()) {
        while (le.size() > 1 && le.back() == '0') le.pop_back();
        if (le.back() == '.') le.pop_back();
      }
      lat += "gatehouse_mcp_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " +
             std::to_string(cum) + "\n";
    }
    lat += "gatehouse_mcp_request_duration_seconds_sum{" + labels + "} " +
           std::to_string(static_cast<double>(sum_us) / 1e6) + "\n";
    lat += "gatehouse_mcp_request_duration_seconds_count{" + labels + "} " + std::to_string(count) +
           "\n";
  }
  return calls + errors + limited + lat;
}

}  // namespace gatehouse::mcp
