// Per-target cooldowns: a provider that answers 429 or 503 with Retry-After
// (or retry-after-ms) is not called again until that time has passed; the
// gateway moves on to the next target or fallback model instead. A target is
// a provider and its key, so two providers sharing a key share the cooldown.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::ai::gateway {

// Longest cooldown honoured: a provider asking for more (or a clock gone
// wrong in an HTTP-date) still gets its target back after this long.
constexpr int64_t kMaxCooldownMs = 10 * 60 * 1000;

// One target's state, shared by every worker: atomics only, read on every
// attempt (relaxed load), written on the rare 429/503.
class Cooldown {
 public:
  explicit Cooldown(std::string provider) : provider_(std::move(provider)) {}
  const std::string& provider() const { return provider_; }
  // Milliseconds left at `now_ms` (steady clock), 0 when not cooling.
  int64_t remaining_ms(int64_t now_ms) const {
    int64_t until = until_ms_.load(std::memory_order_relaxed);
    return until > now_ms ? until - now_ms : 0;
  }
  // Cools down for `ms` from now (capped at kMaxCooldownMs); an earlier,
  // longer cooldown is kept.
  void start(int64_t now_ms, int64_t ms);
  void count_skip() { skipped_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t started() const { return started_.load(std::memory_order_relaxed); }
  uint64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  std::string provider_;
  std::atomic<int64_t> until_ms_{0};
  std::atomic<uint64_t> started_{0};
  std::atomic<uint64_t> skipped_{0};
};

// The target's cooldown, created on the control thread when a catalog is built
// and kept for the process, so a config reload does not forget a 429.
Cooldown* cooldown_for(const std::string& provider, const std::string& api_key);
// gatehouse_llm_cooldowns_total, gatehouse_llm_cooldown_skips_total and
// gatehouse_llm_cooling_down (1 while a provider is cooling down).
std::string render_cooldown_metrics(int64_t now_ms);

// The delay a 429/503 asks for, in milliseconds: `retry-after-ms` (OpenAI,
// Azure) when it is a non-negative number, else `Retry-After` as
// delta-seconds or an HTTP-date (RFC 9110 10.2.3: IMF-fixdate, RFC 850 or
// asctime) relative to `now_unix_ms`. -1 when neither is present and readable;
// a date in the past is 0.
int64_t retry_after_ms(std::string_view retry_after, std::string_view retry_after_ms_header,
                       int64_t now_unix_ms);

}  // namespace gatehouse::ai::gateway
