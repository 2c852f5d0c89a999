#include "ai/gateway/metrics.hpp"

#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "ai/cache/exact_cache.hpp"
#include "ai/cache/semantic_cache.hpp"
#include "ai/gateway/cooldown.hpp"
#include "ai/guardrails/guardrails.hpp"
#include "ai/usage/recorder.hpp"
#include "common/clock.hpp"

namespace gatehouse::ai::gateway {
namespace {

struct Families {
  std::mutex mu;  // control thread and scrapes only
  std::map<std::pair<std::string, std::string>, std::unique_ptr<AiFamily>> map;
  // Replaced families stay allocated: a snapshot may still hold them.
  std::vector<std::unique_ptr<AiFamily>> retired;
};
Families& families() {
  static Families f;
  return f;
}

struct alignas(64) CostShard {
  std::mutex mu;
  std::map<std::pair<std::string, std::string>, double> by;  // (consumer, model) -> money
};
constexpr size_t kCostShards = 64;  // worker index modulo this
std::array<CostShard, kCostShards>& cost_shards() {
  static std::array<CostShard, kCostShards> s;
  return s;
}

std::string render_cost() {
  std::map<std::pair<std::string, std::string>, double> sum;
  for (auto& sh : cost_shards()) {
    std::lock_guard lock(sh.mu);
    for (const auto& [k, v] : sh.by) sum[k] += v;
  }
  std::string out =
      "# HELP gatehouse_llm_cost_total Money spent on AI requests by consumer and model (the "
      "model that answered), in llm.currency, from llm.prices.\n"
      "# TYPE gatehouse_llm_cost_total counter\n";
  for (const auto& [k, v] : sum) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    out += "gatehouse_llm_cost_total{consumer=\"" + metrics::label_escape(k.first) +
           "\",model=\"" + metrics::label_escape(k.second) + "\"} " + buf + "\n";
  }
  return out;
}

constexpr const char* kTokenNames[] = {"input", "cache_read", "cache_write", "output", "reasoning"};

}  // namespace

void AiShard::observe_tps(double v) {
  size_t i = 0;
  while (i < kTpsBuckets.size() && v > kTpsBuckets[i]) ++i;
  tps[i].inc();
  tps_count.inc();
  tps_sum_milli.inc(static_cast<uint64_t>(v * 1000));
}

AiFamily* ai_family(const std::string& model, const std::string& provider, size_t workers) {
  auto& f = families();
  std::lock_guard lock(f.mu);
  auto& slot = f.map[{model, provider}];
  size_t n = workers == 0 ? 1 : workers;
  // A family first made for fewer workers (the admin validator builds its
  // scratch snapshot with one) would be indexed past its shards by the
  // serving snapshot: replace it by one with enough.
  if (slot && slot->shards().size() < n) f.retired.push_back(std::move(slot));
  if (!slot) slot = std::make_unique<AiFamily>(n);
  return slot.get();
}

void add_cost(size_t worker, std::string_view consumer, std::string_view model, double cost) {
  CostShard& sh = cost_shards()[worker % kCostShards];
  std::lock_guard lock(sh.mu);
  sh.by[{std::string(consumer), std::string(model)}] += cost;
}

std::string render_ai_metrics() {
  auto& f = families();
  std::lock_guard lock(f.mu);
  std::string req =
      "# HELP gatehouse_llm_requests_total AI requests by model, provider and status class.\n"
      "# TYPE gatehouse_llm_requests_total counter\n";
  std::string tok =
      "# HELP gatehouse_llm_tokens_total Tokens by model, provider and type (input is uncached "
      "input; output includes reasoning).\n# TYPE gatehouse_llm_tokens_total counter\n";
  std::string part =
      "# HELP gatehouse_llm_partial_total AI requests whose usage is a lower bound (cut streams).\n"
      "# TYPE gatehouse_llm_partial_total counter\n";
  std::string ttft =
      "# HELP gatehouse_llm_time_to_first_token_seconds Request start to the provider's first "
      "body byte.\n# TYPE gatehouse_llm_time_to_first_token_seconds histogram\n";
  std::string tps =
      "# HELP gatehouse_llm_tokens_per_second Output tokens per second of generation (streams: "
      "from the first provider byte to the end; otherwise over the whole call).\n"
      "# TYPE gatehouse_llm_tokens_per_second histogram\n";
  for (const auto& [key, fam] : f.map) {
    std::string labels = "model=\"" + metrics::label_escape(key.first) + "\",provider=\"" +
                         metrics::label_escape(key.second) + "\"";
    std::array<uint64_t, 6> cls{};
    std::array<uint64_t, 5> tokens{};
    std::array<uint64_t, metrics::kLatencyBuckets.size() + 1> buckets{};
    std::array<uint64_t, kTpsBuckets.size() + 1> tps_buckets{};
    uint64_t partial = 0, count = 0, sum_us = 0, tps_count = 0, tps_sum = 0;
    for (const auto& s : fam->shards()) {
      for (size_t i = 0; i < tps_buckets.size(); ++i) tps_buckets[i] += s->tps[i].get();
      tps_count += s->tps_count.get();
      tps_sum += s->tps_sum_milli.get();
      for (size_t i = 0; i < cls.size(); ++i) cls[i] += s->by_class[i].get();
      for (size_t i = 0; i < tokens.size(); ++i) tokens[i] += s->tokens[i].get();
      for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += s->ttft.buckets[i].get();
      partial += s->partial.get();
      count += s->ttft.count.get();
      sum_us += s->ttft.sum_us.get();
    }
    for (size_t i = 0; i < cls.size(); ++i) {
      if (cls[i] == 0) continue;
      req += "gatehouse_llm_requests_total{" + labels + ",status_class=\"" +
             (i == 0 ? std::string("none") : std::to_string(i) + "xx") + "\"} " +
             std::to_string(cls[i]) + "\n";
    }
    for (size_t i = 0; i < tokens.size(); ++i)
      tok += "gatehouse_llm_tokens_total{" + labels + ",type=\"" + kTokenNames[i] + "\"} " +
             std::to_string(tokens[i]) + "\n";
    part += "gatehouse_llm_partial_total{" + labels + "} " + std::to_string(partial) + "\n";
    uint64_t cum = 0;
    for (size_t i = 0; i < buckets.size(); ++i) {
      cum += buckets[i];
      std::string le = i < metrics::kLatencyBuckets.size()
                           ? std::to_string(metrics::kLatencyBuckets[i])
                           : std::string("+Inf");
      if (le != "+Inf") {
        while (!le.empty() && le.back() == '0') le.pop_back();
        if (!le.empty() && le.back() == '.') le.pop_back();
      }
      ttft += "gatehouse_llm_time_to_first_token_seconds_bucket{" + labels + ",le=\"" + le +
              "\"} " + std::to_string(cum) + "\n";
    }
    ttft += "gatehouse_llm_time_to_first_token_seconds_sum{" + labels + "} " +
            std::to_string(static_cast<double>(sum_us) / 1e6) + "\n";
    ttft += "gatehouse_llm_time_to_first_token_seconds_count{" + labels + "} " +
            std::to_string(count) + "\n";
    cum = 0;
    for (size_t i = 0; i < tps_buckets.size(); ++i) {
      cum += tps_buckets[i];
      std::string le = i < kTpsBuckets.size() ? std::to_string(static_cast<int64_t>(kTpsBuckets[i]))
                                              : std::string("+Inf");
      tps += "gatehouse_llm_tokens_per_second_bucket{" + labels + ",le=\"" + le + "\"} " +
             std::to_string(cum) + "\n";
    }
    tps += "gatehouse_llm_tokens_per_second_sum{" + labels + "} " +
           std::to_string(static_cast<double>(tps_sum) / 1e3) + "\n";
    tps +=
        "gatehouse_llm_tokens_per_second_count{" + labels + "} " + std::to_string(tps_count) + "\n";
  }
  return req + tok + part + ttft + tps + render_cost() + render_cooldown_metrics(steady_ms()) +
         guardrails::render_guardrail_metrics() + cache::render_cache_metrics() +
         usage::render_usage_metrics() +
         cache::render_semantic_metrics();
}

}  // namespace gatehouse::ai::gateway
