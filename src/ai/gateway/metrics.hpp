// Prometheus metrics of the AI gateway, by model (the one that answered) and
// provider: requests by status class, tokens by type, time to first token.
// Families live for the process (reloads keep counting), one shard per worker.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/metrics.hpp"

namespace gatehouse::ai::gateway {

enum TokenType : size_t { kTokInput, kTokCacheRead, kTokCacheWrite, kTokOutput, kTokReasoning };

// Output tokens per second of generation, for gatehouse_llm_tokens_per_second.
inline constexpr std::array<double, 13> kTpsBuckets = {1,   2,   5,    10,   20,   50,   100,
                                                       200, 500, 1000, 2000, 5000, 10000};

struct alignas(64) AiShard {
  std::array<metrics::Counter, 6> by_class;  // 1..5 = 1xx..5xx, 0 = no answer
  std::array<metrics::Counter, 5> tokens;    // by TokenType
  metrics::Counter partial;                  // cut or cancelled, usage a lower bound
  metrics::Histogram ttft;
  std::array<metrics::Counter, kTpsBuckets.size() + 1> tps;  // last = +Inf
  metrics::Counter tps_count;
  metrics::Counter tps_sum_milli;  // tokens/s x 1000
  void observe_tps(double tps);
};
using AiFamily = metrics::Family<AiShard>;

// Created on the control thread (catalog build); never destroyed.
AiFamily* ai_family(const std::string& model, const std::string& provider, size_t workers);
// Money spent by consumer and model (gatehouse_llm_cost_total). Consumers
// appear on the data path, so each worker's shard is a map under its own
// mutex, taken by that worker and by scrapes only.
void add_cost(size_t worker, std::string_view consumer, std::string_view model, double cost);
// Text exposition of every AI family.
std::string render_ai_metrics();

}  // namespace gatehouse::ai::gateway
