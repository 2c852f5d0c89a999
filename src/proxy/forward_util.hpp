// Pieces of the upstream exchange shared by HTTP/1.1 (forward.cpp) and
// HTTP/2 (forward_h2.cpp) forwarding; defined in forward_util.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/entities.hpp"

namespace gatehouse::proxy {

struct UpstreamShared;

// Decrements an atomic counter (in flight, pending) when the scope ends.
struct CounterGuard {
  std::atomic<int>* c = nullptr;
  CounterGuard() = default;
  explicit CounterGuard(std::atomic<int>& a) : c(&a) {}
  CounterGuard(const CounterGuard&) = delete;
  CounterGuard& operator=(const CounterGuard&) = delete;
  ~CounterGuard() { release(); }
  // Counts one more now, one less when the scope ends.
  static CounterGuard enter(std::atomic<int>& a) {
    a.fetch_add(1, std::memory_order_relaxed);
    return CounterGuard(a);
  }
  // Counts one more in `a` unless this guard already holds a count.
  void enter_once(std::atomic<int>& a) {
    if (c) return;
    a.fetch_add(1, std::memory_order_relaxed);
    c = &a;
  }
  void release() {
    if (c) c->fetch_sub(1, std::memory_order_relaxed);
    c = nullptr;
  }
};
struct Exchange;

// Passive outlier detection: counts a target's failures, ejects it.
void record_outcome(UpstreamShared& us, int t, bool connect_failure, bool server_error,
                    int64_t now_ms);
// The consistent-hash key of a request.
std::string hash_key_for(const config::BalancerConfig& b, const Exchange& ex,
                         std::string_view client_ip);

}  // namespace gatehouse::proxy
