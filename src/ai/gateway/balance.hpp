// Load balancing across a model entry's targets (llm.models[].strategy):
// the order in which a request tries them. Per-target state lives in the
// catalog (one snapshot), shared by every worker through relaxed atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ai/usage/cost.hpp"
#include "config/entities.hpp"

namespace gatehouse::ai::gateway {

struct alignas(64) TargetState {
  std::atomic<int64_t> inflight{0};  // provider calls running now on this node
  std::atomic<int64_t> ewma_us{0};   // time to first token, smoothed; 0: no sample yet
  // One latency sample (success, or a failure's penalty).
  void observe(int64_t us);
};

// What a request brings to the choice: its token estimate (cost strategy).
struct PickHints {
  int64_t prompt_tokens = 0;
  int64_t max_output = 0;
};

// Target indexes of one model entry in the order to try them: the first by
// the strategy, then the rest (weight > 0) also by the strategy (weighted:
// config order). `weighted_pick` is the weighted random choice, used first by
// `weighted` and to break ties by the others.
std::vector<size_t> order_targets(config::LlmStrategy strategy,
                                  const std::vector<config::LlmTargetConfig>& targets,
                                  const TargetState* state,
                                  const std::vector<std::optional<usage::Price>>& prices,
                                  size_t weighted_pick, const PickHints& hints);

// Counts a call in flight for as long as it lives.
class InflightGuard {
 public:
  InflightGuard() = default;
  explicit InflightGuard(TargetState* s) : s_(s) {
    if (s_) s_->inflight.fetch_add(1, std::memory_order_relaxed);
  }
  InflightGuard(InflightGuard&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  InflightGuard& operator=(InflightGuard&& o) noexcept {
    if (this != &o) {
      release();
      s_ = std::exchange(o.s_, nullptr);
    }
    return *this;
  }
  ~InflightGuard() { release(); }
  void release() {
    if (s_) s_->inflight.fetch_sub(1, std::memory_order_relaxed);
    s_ = nullptr;
  }

 private:
  TargetState* s_ = nullptr;
};

}  // namespace gatehouse::ai::gateway
