#include "config/load_llm_extras.hpp"

namespace gatehouse::config::detail {

namespace {
constexpr int64_t kMinRetentionMs = 3'600'000;            // 1h: below that analytics make no sense
constexpr int64_t kMaxRetentionMs = 3660LL * 86'400'000;  // ten years
constexpr int64_t kMinFlushMs = 50;
constexpr int64_t kMaxFlushMs = 60'000;
}  // namespace

void parse_llm_usage(Reader& r, const Slot& s, LlmUsageConfig& out) {
  out.pos = s.pos;
  Fields f(r, s, {"enabled", "retention", "flush_interval", "max_pending"});
  f.read("enabled", out.enabled);
  if (const Slot* v = f.get("retention")) {
    r.duration(*v, out.retention_ms);
    if (out.retention_ms < kMinRetentionMs || out.retention_ms > kMaxRetentionMs)
      r.fail(*v, "invalid_value", "retention must be between 1h and 3660d");
  }
  if (const Slot* v = f.get("flush_interval")) {
    r.duration(*v, out.flush_interval_ms);
    if (out.flush_interval_ms < kMinFlushMs || out.flush_interval_ms > kMaxFlushMs)
      r.fail(*v, "invalid_value", "flush_interval must be between 50ms and 60s");
  }
  if (const Slot* v = f.get("max_pending")) {
    r.read(*v, out.max_pending);
    if (out.max_pending < 1 || out.max_pending > 10'000'000)
      r.fail(*v, "invalid_value", "max_pending must be between 1 and 10000000");
  }
}

void parse_llm_retry(Reader& r, const Slot& s, LlmRetryConfig& out) {
  out.pos = s.pos;
  Fields f(r, s, {"attempts", "backoff", "max_backoff", "max_retry_after", "first_token_timeout"});
  if (const Slot* v = f.get("attempts")) {
    r.read(*v, out.attempts);
    if (out.attempts > 10) r.fail(*v, "invalid_value", "attempts must be 0..10");
  }
  auto bounded = [&](const char* key, int64_t& field, int64_t max_ms, const char* what) {
    const Slot* v = f.get(key);
    if (!v) return;
    r.duration(*v, field);
    if (field > max_ms) r.fail(*v, "invalid_value", what);
  };
  bounded("backoff", out.backoff_ms, 60'000, "backoff must be at most 60s");
  bounded("max_backoff", out.max_backoff_ms, 600'000, "max_backoff must be at most 10m");
  bounded("max_retry_after", out.max_retry_after_ms, 600'000,
          "max_retry_after must be at most 10m");
  bounded("first_token_timeout", out.first_token_timeout_ms, 3'600'000,
          "first_token_timeout must be at most 1h");
  if (out.max_backoff_ms < out.backoff_ms)
    if (const Slot* v = f.get("max_backoff"))
      r.fail(*v, "invalid_value", "max_backoff must not be below backoff");
}

void parse_llm_strategy(Reader& r, const Slot& s, LlmStrategy& out) {
  r.choice(s,
           std::vector<std::pair<std::string, LlmStrategy>>{
               {"weighted", LlmStrategy::kWeighted},
               {"least-inflight", LlmStrategy::kLeastInflight},
               {"latency", LlmStrategy::kLatency},
               {"cost", LlmStrategy::kCost}},
           out);
}

}  // namespace gatehouse::config::detail
