// Cluster-wide LLM token limits and budgets in Redis (`store: redis` on
// llm-token-limit and llm-budget). Unlike the rate-limit policy's cluster
// mode, which decides on a node's last view and syncs in the background
// (bounded overshoot), an LLM call is expensive and slow enough that one
// Redis round trip before it is cheap: the reservation is a Lua script that
// Redis runs atomically (read the counts, refuse or add the estimate), so
// concurrent requests on any number of nodes cannot together pass the limit.
// Settling with the real usage is a second script (add the difference, never
// below zero).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "net/asio.hpp"
#include "policies/config_reader.hpp"
#include "policies/rate_limit/redis_store.hpp"

namespace gatehouse::policy::llm_cluster {

struct ClusterStore {
  rate_limit::RedisEndpoint redis;
  std::string prefix = "gatehouse:llm:";
  bool fail_closed = false;  // on_store_error: closed refuses while Redis is unreachable
  std::string identity() const;
};

// Reads `store: local|redis`, `redis` and `on_store_error`; true for redis.
bool read_cluster_store(ConfigReader& cr, ClusterStore& out);

struct Check {
  bool allowed = false;
  bool store_down = false;  // Redis could not be asked; `allowed` follows on_store_error
  int64_t remaining = 0;    // after the operation
  int64_t reset_ms = 0;     // until the current window / period ends
  int64_t retry_after_ms = 0;
  int64_t window = 0;  // the window index (tokens) the amount went to
};

// Sliding window of `window_ms` over two fixed windows keyed by
// floor(unix ms / window_ms), as the local counters: reserves `need` when
// used + need <= limit.
awaitable<Check> reserve_tokens(const ClusterStore& cs, std::string_view scope,
                                std::string_view key, int64_t limit, int64_t window_ms,
                                int64_t need, int64_t now_unix_ms);
// Adds `delta` (real - reserved) to the window the reservation went to.
awaitable<void> settle_tokens(const ClusterStore& cs, std::string_view scope, std::string_view key,
                              int64_t window, int64_t window_ms, int64_t delta);

// A calendar period's spend (micro-units), keyed by the period's start:
// reserves `need` when spent + need <= limit.
awaitable<Check> reserve_amount(const ClusterStore& cs, std::string_view scope,
                                std::string_view key, int64_t period_start_s, int64_t period_end_s,
                                int64_t limit, int64_t need, int64_t now_unix_s);
awaitable<void> settle_amount(const ClusterStore& cs, std::string_view scope, std::string_view key,
                              int64_t period_start_s, int64_t period_end_s, int64_t delta,
                              int64_t now_unix_s);

}  // namespace gatehouse::policy::llm_cluster
