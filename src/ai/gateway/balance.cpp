#include "ai/gateway/balance.hpp"

#include <algorithm>
#include <limits>

namespace gatehouse::ai::gateway {

namespace {
constexpr int64_t kEwmaDiv = 8;  // weight 1/8 for a new sample: a few calls move it
}  // namespace

void TargetState::observe(int64_t us) {
  if (us <= 0) us = 1;
  // A lost race between two workers drops one sample; the average does not
  // need to be exact, and a CAS loop would make every worker pay for it.
  int64_t old = ewma_us.load(std::memory_order_relaxed);
  ewma_us.store(old == 0 ? us : old + (us - old) / kEwmaDiv, std::memory_order_relaxed);
}

std::vector<size_t> order_targets(config::LlmStrategy strategy,
                                  const std::vector<config::LlmTargetConfig>& targets,
                                  const TargetState* state,
                                  const std::vector<std::optional<usage::Price>>& prices,
                                  size_t weighted_pick, const PickHints& hints) {
  std::vector<size_t> order;
  order.reserve(targets.size());
  // The weighted pick first, then the others in config order: the tie
  // breaker of every strategy, and the whole order of `weighted`.
  order.push_back(weighted_pick);
  for (size_t t = 0; t < targets.size(); ++t)
    if (t != weighted_pick && targets[t].weight > 0) order.push_back(t);
  if (strategy == config::LlmStrategy::kWeighted || order.size() < 2) return order;

  std::vector<int64_t> score(targets.size(), 0);
  for (size_t t : order) {
    switch (strategy) {
      case config::LlmStrategy::kLeastInflight:
        score[t] = state ? state[t].inflight.load(std::memory_order_relaxed) : 0;
        break;
      case config::LlmStrategy::kLatency:
        // Untried targets (no sample) go first, so each gets measured.
        score[t] = state ? state[t].ewma_us.load(std::memory_order_relaxed) : 0;
        break;
      case config::LlmStrategy::kCost: {
        // Nano-units of the worst case at this target's price; unpriced last.
        score[t] =
            prices[t]
                ? static_cast<int64_t>(
                      usage::estimate(*prices[t], hints.prompt_tokens, hints.max_output) * 1e9)
                : std::numeric_limits<int64_t>::max();
        break;
      }
      case config::LlmStrategy::kWeighted:
        break;
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return score[a] < score[b]; });
  return order;
}

}  // namespace gatehouse::ai::gateway
