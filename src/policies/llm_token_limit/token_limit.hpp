// llm-token-limit: at most `tokens` LLM tokens (prompt + output) per `window`
// per key (consumer, credential, IP, header, route, model, provider or
// global), for routes served by the AI gateway. Tokens are only known once
// the request body is parsed (estimate) and once the provider answered
// (usage), so besides the request hook, which refuses a key whose window is
// already spent, the policy offers reserve/settle to the AI route: reserve the
// estimate (prompt tokens + max_tokens) before the first provider call, settle
// with the real usage after it. Concurrent requests therefore cannot all pass
// on the same remaining budget and overshoot it.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/asio.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_token_limit {

// One key's sliding window: two fixed windows aligned to multiples of the
// window length; the previous one is weighted by the share of it still
// inside the sliding window that ends now.
struct TokenWindow {
  int64_t window = 0;  // index of the current fixed window (now / window_ms)
  int64_t curr = 0;    // tokens counted in it
  int64_t prev = 0;    // tokens counted in the one before
};

// Rolls `s` to the window of `now_ms`.
void roll(TokenWindow& s, int64_t window_ms, int64_t now_ms);
// Tokens in the sliding window ending at now_ms (after roll), rounded up.
int64_t used(const TokenWindow& s, int64_t window_ms, int64_t now_ms);
// Milliseconds until at least `need` tokens fit again (after roll); 0 when
// they fit now; the window length when they never will.
int64_t wait_ms(const TokenWindow& s, int64_t limit, int64_t need, int64_t window_ms,
                int64_t now_ms);

// What reserve() took, to be settled once usage is known.
struct Reservation {
  std::string key;
  int64_t window = 0;  // fixed-window index the tokens were counted in
  int64_t tokens = 0;
};

// Node-wide counters of one policy: 16 shards of mutex + map, so workers on
// different keys rarely meet. Exact across the node's workers.
class TokenCounters {
 public:
  TokenCounters(int64_t limit, int64_t window_ms) : limit_(limit), window_ms_(window_ms) {}
  struct Check {
    bool allowed = false;
    int64_t remaining = 0;  // after the operation
    int64_t reset_ms = 0;   // until the current fixed window ends
    int64_t retry_after_ms = 0;
  };
  // Refuses when the window is already spent (need = 1) without counting.
  Check peek(std::string_view key, int64_t now_ms);
  // Counts `tokens` when they fit under the limit; refused ones count nothing.
  Check reserve(std::string_view key, int64_t tokens, int64_t now_ms, Reservation& out);
  // Replaces a reservation's estimate by the real count.
  void settle(const Reservation& r, int64_t actual, int64_t now_ms);
  size_t size() const;

 private:
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, TokenWindow> map;
  };
  Shard& shard(std::string_view key);
  void sweep(Shard& s, int64_t now_ms);

  int64_t limit_;
  int64_t window_ms_;
  std::array<Shard, 16> shards_;
};

// The face the AI route sees (dynamic_cast from the policies that ran).
class TokenLimiter {
 public:
  virtual ~TokenLimiter() = default;
  // Reserves `tokens` for this request; false (and `why`, `retry_after_s`)
  // when they do not fit. Adds the x-ratelimit-*-tokens headers to ctx.
  virtual bool reserve(RequestContext& ctx, int64_t tokens, Reservation& out, std::string& why,
                       int64_t& retry_after_s) const = 0;
  virtual void settle(const Reservation& r, int64_t actual, int64_t now_ms) const = 0;
  // What the AI route calls: the same, through Redis with `store: redis`
  // (one round trip each; src/policies/llm_cluster), else reserve()/settle().
  virtual awaitable<bool> reserve_async(RequestContext& ctx, int64_t tokens, Reservation& out,
                                        std::string& why, int64_t& retry_after_s) const {
    co_return reserve(ctx, tokens, out, why, retry_after_s);
  }
  virtual awaitable<void> settle_async(const Reservation& r, int64_t actual, int64_t now_ms) const {
    settle(r, actual, now_ms);
    co_return;
  }
  // When max_tokens is absent, the output the reservation assumes.
  virtual int64_t default_output_tokens() const = 0;
  // by: model / by: provider: the key is the target about to be called, known
  // only per provider attempt. Such a limit reserves before each attempt
  // (reserve_target_async, as llm-budget does), not once per request, so a
  // target whose window is spent is skipped and a fallback can answer.
  virtual bool per_target() const { return false; }
  virtual awaitable<bool> reserve_target_async(RequestContext& ctx, std::string_view /*model*/,
                                               std::string_view /*provider*/, int64_t tokens,
                                               Reservation& out, std::string& why,
                                               int64_t& retry_after_s) const {
    co_return co_await reserve_async(ctx, tokens, out, why, retry_after_s);
  }
};

}  // namespace gatehouse::policy::llm_token_limit
