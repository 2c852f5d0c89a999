// Metrics without locks on the hot path: every worker writes its own shard
// (single writer, relaxed load+store, no read-modify-write), the admin thread
// sums shards when Prometheus scrapes.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gatehouse::metrics {

struct Counter {
  std::atomic<uint64_t> v{0};
  void inc(uint64_t d = 1) { v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

// Gauge written by one worker (inc/dec), may go negative transiently per shard.
struct Gauge {
  std::atomic<int64_t> v{0};
  void add(int64_t d) { v.store(v.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  int64_t get() const { return v.load(std::memory_order_relaxed); }
};

// Latency buckets in seconds (Prometheus convention), tuned for a proxy.
inline constexpr std::array<double, 16> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};

struct Histogram {
  std::array<Counter, kLatencyBuckets.size() + 1> buckets;  // last = +Inf
  Counter count;
  Counter sum_us;
  void observe_us(uint64_t us);
};

// Per route, per worker.
struct alignas(64) RouteShard {
  std::array<Counter, 6> by_class;  // index 1..5 = 1xx..5xx, 0 = no response
  std::array<Counter, 17> grpc;     // gRPC calls by grpc-status 0..16
  Histogram latency;
  Counter bytes_in;
  Counter bytes_out;
};

// Per upstream, per worker.
struct alignas(64) UpstreamShard {
  Counter requests;
  Counter failures;          // connect errors, timeouts, resets
  Counter retries;
  Counter timeouts;
  Counter breaker_rejections;
  Gauge pool_idle;           // idle pooled connections held by this worker
  Gauge pool_active;         // connections in use by this worker
  Histogram connect_latency;
};

struct alignas(64) WorkerShard {
  Gauge active_connections;
  Counter accepted;
  Counter requests;
  Counter parse_errors;
  Counter no_route;
  Counter tls_handshake_errors;  // failed or timed-out downstream handshakes
  Counter mock_responses;        // answers made by mock routes (src/apim/mock)
};

template <class Shard>
class Family {
 public:
  explicit Family(size_t workers) : shards_(workers) {
    for (auto& s : shards_) s = std::make_unique<Shard>();
  }
  Shard& shard(size_t worker) { return *shards_[worker]; }
  const std::vector<std::unique_ptr<Shard>>& shards() const { return shards_; }

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
};

// Owns every family. Families are created by the control thread when a
// snapshot names a new route or upstream and are never destroyed, so shard
// pointers held by snapshots stay valid across reloads.
class Registry {
 public:
  explicit Registry(size_t workers);
  size_t workers() const { return workers_; }
  Family<RouteShard>* route(const std::string& name);
  Family<UpstreamShard>* upstream(const std::string& name);
  WorkerShard& worker(size_t i) { return *worker_shards_.shard(i).get(); }

  std::atomic<uint64_t> reloads_total{0};
  std::atomic<uint64_t> reload_errors_total{0};
  std::atomic<uint64_t> config_generation{0};
  std::atomic<int64_t> last_reload_ms{0};

  // Text exposition format 0.0.4. `extra` is appended verbatim (gauges that
  // live elsewhere, e.g. target health).
  std::string render(const std::string& extra) const;

 private:
  struct WorkerShards {
    explicit WorkerShards(size_t n) : v(n) {
      for (auto& s : v) s = std::make_unique<WorkerShard>();
    }
    std::unique_ptr<WorkerShard>& shard(size_t i) { return v[i]; }
    std::vector<std::unique_ptr<WorkerShard>> v;
  };
  size_t workers_;
  mutable std::mutex mu_;  // control thread and scrapes only
  std::map<std::string, std::unique_ptr<Family<RouteShard>>> routes_;
  std::map<std::string, std::unique_ptr<Family<UpstreamShard>>> upstreams_;
  WorkerShards worker_shards_;
};

// Escapes a Prometheus label value.
std::string label_escape(const std::string& s);

}  // namespace gatehouse::metrics
