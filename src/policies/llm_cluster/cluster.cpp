#include "policies/llm_cluster/cluster.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "policies/llm_cluster/redis_async.hpp"
#include "policies/llm_token_limit/token_limit.hpp"
#include "policies/rate_limit/store_config.hpp"

namespace gatehouse::policy::llm_cluster {

namespace {

// KEYS: the current fixed window, the previous one. ARGV: limit, need,
// window ms, ms elapsed in the current window, TTL ms. Returns
// {admitted 0|1, current count before, previous count}. The weighted
// previous count is rounded up, as the local counters do; Lua numbers are
// doubles, exact for counts below 2^53.
const Script& reserve_window_script() {
  static const Script s(R"lua(
local curr = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local need = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local used = math.ceil(prev * (w - tonumber(ARGV[4])) / w) + curr
if used + need > limit then
  return {0, curr, prev}
end
redis.call('INCRBY', KEYS[1], need)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1, curr, prev}
)lua");
  return s;
}

// KEYS: the period's counter. ARGV: limit, need, TTL ms. Returns
// {admitted 0|1, spent before}.
const Script& reserve_amount_script() {
  static const Script s(R"lua(
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local need = tonumber(ARGV[2])
if spent + need > tonumber(ARGV[1]) then
  return {0, spent}
end
redis.call('INCRBY', KEYS[1], need)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, spent}
)lua");
  return s;
}

// KEYS: a counter. ARGV: delta, TTL ms. A refund never takes it below zero;
// a counter that expired meanwhile is not brought back by a refund.
const Script& settle_script() {
  static const Script s(R"lua(
local delta = tonumber(ARGV[1])
if delta <= 0 and redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
local v = redis.call('INCRBY', KEYS[1], delta)
if v < 0 then
  redis.call('SET', KEYS[1], 0, 'PX', ARGV[2])
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v
)lua");
  return s;
}

std::string key_of(const ClusterStore& cs, std::string_view scope, std::string_view key,
                   int64_t index) {
  return rate_limit::redis_key(cs.prefix, scope, key, index);
}

bool ints(const RedisValue& v, size_t n) {
  if (v.type != RedisValue::Type::kArray || v.array.size() != n) return false;
  for (const auto& e : v.array)
    if (e.type != RedisValue::Type::kInteger) return false;
  return true;
}

// One log line per failure streak would need shared state per endpoint; a
// warning per failed call is bounded by the requests, and Redis being down
// is worth seeing.
Check store_down(const ClusterStore& cs, const Error& e) {
  log::warn("llm limit store unreachable",
            {log::f("redis", cs.redis.label()), log::f("error", e.message),
             log::f("on_store_error", cs.fail_closed ? "closed" : "open")});
  Check c;
  c.store_down = true;
  c.allowed = !cs.fail_closed;
  c.retry_after_ms = 1000;
  return c;
}

}  // namespace

std::string ClusterStore::identity() const {
  return "redis|" + redis.id() + "|" + prefix + "|" + (fail_closed ? "closed" : "open");
}

bool read_cluster_store(ConfigReader& cr, ClusterStore& out) {
  bool redis = cr.choice("store", {"local", "redis"}, "local") == "redis";
  if (!redis) {
    for (const char* k : {"redis", "on_store_error"})
      if (cr.has(k))
        cr.fail(k, "invalid_value", std::string(k) + " is only used with store: redis");
    return false;
  }
  rate_limit::ClusterOptions o;
  o.prefix = out.prefix;
  rate_limit::read_redis_block(cr, o);
  out.redis = o.redis;
  out.prefix = o.prefix;
  out.fail_closed = cr.choice("on_store_error", {"open", "closed"}, "open") == "closed";
  return true;
}

awaitable<Check> reserve_tokens(const ClusterStore& cs, std::string_view scope,
                                std::string_view key, int64_t limit, int64_t window_ms,
                                int64_t need, int64_t now_unix_ms) {
  const int64_t idx = now_unix_ms / window_ms;
  const int64_t elapsed = now_unix_ms - idx * window_ms;
  // Keys and arguments are named, not braced in the co_await: GCC 12 cannot
  // keep a braced list's backing array alive across a suspension.
  const std::vector<std::string> keys{key_of(cs, scope, key, idx),
                                      key_of(cs, scope, key, idx - 1)};
  const std::vector<std::string> args{std::to_string(limit), std::to_string(need),
                                      std::to_string(window_ms), std::to_string(elapsed),
                                      std::to_string(2 * window_ms + 1000)};
  auto r = co_await redis_eval(cs.redis, reserve_window_script(), keys, args);
  if (!r) co_return store_down(cs, r.error());
  if (!ints(*r, 3))
    co_return store_down(cs, make_error("redis_error", "unexpected reply to the reserve script"));
  llm_token_limit::TokenWindow w;
  w.window = idx;
  w.curr = r->array[1].integer;
  w.prev = r->array[2].integer;
  const int64_t used = llm_token_limit::used(w, window_ms, now_unix_ms);
  Check c;
  c.allowed = r->array[0].integer == 1;
  c.window = idx;
  c.reset_ms = (idx + 1) * window_ms - now_unix_ms;
  c.remaining = std::max<int64_t>(0, limit - used - (c.allowed ? need : 0));
  if (!c.allowed)
    c.retry_after_ms = llm_token_limit::wait_ms(w, limit, need, window_ms, now_unix_ms);
  co_return c;
}

awaitable<void> settle_tokens(const ClusterStore& cs, std::string_view scope, std::string_view key,
                              int64_t window, int64_t window_ms, int64_t delta) {
  if (delta == 0) co_return;
  const std::vector<std::string> keys{key_of(cs, scope, key, window)};
  const std::vector<std::string> args{std::to_string(delta),
                                      std::to_string(2 * window_ms + 1000)};
  auto r = co_await redis_eval(cs.redis, settle_script(), keys, args);
  if (!r) (void)store_down(cs, r.error());
}

awaitable<Check> reserve_amount(const ClusterStore& cs, std::string_view scope,
                                std::string_view key, int64_t period_start_s, int64_t period_end_s,
                                int64_t limit, int64_t need, int64_t now_unix_s) {
  // Kept a day past the period's end, so late settlements still find it.
  const int64_t ttl_ms = (std::max<int64_t>(0, period_end_s - now_unix_s) + 86'400) * 1000;
  const std::vector<std::string> keys{key_of(cs, scope, key, period_start_s)};
  const std::vector<std::string> args{std::to_string(limit), std::to_string(need),
                                      std::to_string(ttl_ms)};
  auto r = co_await redis_eval(cs.redis, reserve_amount_script(), keys, args);
  if (!r) co_return store_down(cs, r.error());
  if (!ints(*r, 2))
    co_return store_down(cs, make_error("redis_error", "unexpected reply to the reserve script"));
  Check c;
  c.allowed = r->array[0].integer == 1;
  const int64_t spent = r->array[1].integer;
  c.remaining = std::max<int64_t>(0, limit - spent - (c.allowed ? need : 0));
  c.reset_ms = std::max<int64_t>(1, period_end_s - now_unix_s) * 1000;
  if (!c.allowed) c.retry_after_ms = c.reset_ms;
  co_return c;
}

awaitable<void> settle_amount(const ClusterStore& cs, std::string_view scope, std::string_view key,
                              int64_t period_start_s, int64_t period_end_s, int64_t delta,
                              int64_t now_unix_s) {
  if (delta == 0) co_return;
  const int64_t ttl_ms = (std::max<int64_t>(0, period_end_s - now_unix_s) + 86'400) * 1000;
  const std::vector<std::string> keys{key_of(cs, scope, key, period_start_s)};
  const std::vector<std::string> args{std::to_string(delta), std::to_string(ttl_ms)};
  auto r = co_await redis_eval(cs.redis, settle_script(), keys, args);
  if (!r) (void)store_down(cs, r.error());
}

}  // namespace gatehouse::policy::llm_cluster
