// Per-worker keep-alive pools of upstream connections. No locks: a pool is
// touched only by its worker's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/metrics.hpp"
#include "net/asio.hpp"
#include "net/deadline.hpp"
#include "net/stream.hpp"

namespace gatehouse::proxy {

struct UpstreamShared;

struct UpstreamConn {
  explicit UpstreamConn(const net::Stream::executor_type& ex) : stream(ex) {}
  ~UpstreamConn() {
    if (live_counter) live_counter->fetch_sub(1, std::memory_order_relaxed);
  }
  UpstreamConn(const UpstreamConn&) = delete;
  UpstreamConn& operator=(const UpstreamConn&) = delete;
  net::Stream stream;         // TCP, or TLS on TCP
  int target = -1;
  uint32_t requests = 0;     // requests carried so far
  int64_t idle_since_ms = 0;
  net::Deadline deadline;    // armed while an operation on it may stall
  bool reused = false;       // taken from the pool (stale-close retry rule)
  std::atomic<int>* live_counter = nullptr;  // upstream's node-wide connection count
  std::string peer;          // "ip:port" for logs, filled on first use
};

// Idle connections of one target, most recently used last (LIFO keeps the
// warm ones busy and lets the cold ones time out).
class TargetPool {
 public:
  explicit TargetPool(metrics::Gauge* idle_gauge = nullptr) : gauge_(idle_gauge) {}
  // A connection idle at least this long is checked for a close (or bytes
  // nobody asked for) before reuse; see take().
  static constexpr int64_t kProbeAfterIdleMs = 1'000;
  // The most recently used open connection, or null. `replayable`: the
  // caller sends again on a fresh connection when a reused one fails before
  // any answer byte (idempotent method, body in memory), so a connection back
  // in the pool for less than kProbeAfterIdleMs is handed out unchecked.
  std::unique_ptr<UpstreamConn> take(int64_t now_ms, bool replayable);
  void put(std::unique_ptr<UpstreamConn> c, int64_t now_ms);
  // Closes connections idle longer than `idle_timeout_ms`; returns how many.
  size_t expire(int64_t now_ms, int64_t idle_timeout_ms);
  size_t size() const { return idle_.size(); }
  void clear() {
    if (gauge_) gauge_->add(-static_cast<int64_t>(idle_.size()));
    idle_.clear();
  }
  ~TargetPool() { clear(); }
  TargetPool(TargetPool&&) = default;

 private:
  metrics::Gauge* gauge_ = nullptr;
  std::vector<std::unique_ptr<UpstreamConn>> idle_;
};

}  // namespace gatehouse::proxy
