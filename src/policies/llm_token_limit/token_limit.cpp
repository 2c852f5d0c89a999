#include "policies/llm_token_limit/token_limit.hpp"

#include <algorithm>
#include <chrono>
#include <functional>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/llm_cluster/cluster.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy::llm_token_limit {

void roll(TokenWindow& s, int64_t window_ms, int64_t now_ms) {
  const int64_t idx = now_ms / window_ms;
  if (idx == s.window) return;
  s.prev = idx == s.window + 1 ? s.curr : 0;
  s.curr = 0;
  s.window = idx;
}

namespace {

// ceil(prev * (window_ms - elapsed) / window_ms), in 128 bits: a day's window
// in ms times a large token count overflows 64.
int64_t weighted_prev(int64_t prev, int64_t window_ms, int64_t elapsed) {
  __int128 num = static_cast<__int128>(prev) * (window_ms - elapsed);
  return static_cast<int64_t>((num + window_ms - 1) / window_ms);
}

// The smallest elapsed time e in [0, window_ms] with weighted_prev(prev, e) <= room.
int64_t elapsed_for(int64_t prev, int64_t window_ms, int64_t room) {
  if (prev <= room) return 0;
  // prev * (W - e) <= room * W  <=>  e >= W - room * W / prev
  __int128 e = window_ms - (static_cast<__int128>(room) * window_ms) / prev;
  int64_t guess = static_cast<int64_t>(std::clamp<__int128>(e, 0, window_ms));
  while (guess < window_ms && weighted_prev(prev, window_ms, guess) > room) ++guess;
  return guess;
}

}  // namespace

int64_t used(const TokenWindow& s, int64_t window_ms, int64_t now_ms) {
  const int64_t elapsed = now_ms - s.window * window_ms;
  return weighted_prev(s.prev, window_ms, elapsed) + s.curr;
}

int64_t wait_ms(const TokenWindow& s, int64_t limit, int64_t need, int64_t window_ms,
                int64_t now_ms) {
  if (need > limit) return window_ms;
  const int64_t elapsed = now_ms - s.window * window_ms;
  if (s.curr + need <= limit) {
    int64_t e = elapsed_for(s.prev, window_ms, limit - need - s.curr);
    return std::max<int64_t>(0, e - elapsed);
  }
  // Not before the next window, where this window's count becomes `prev`.
  return (window_ms - elapsed) + elapsed_for(s.curr, window_ms, limit - need);
}

TokenCounters::Shard& TokenCounters::shard(std::string_view key) {
  return shards_[std::hash<std::string_view>{}(key) % shards_.size()];
}

void TokenCounters::sweep(Shard& s, int64_t now_ms) {
  // Entries whose two windows are both over say nothing any more.
  const int64_t idx = now_ms / window_ms_;
  std::erase_if(s.map, [&](const auto& kv) { return idx - kv.second.window >= 2; });
}

TokenCounters::Check TokenCounters::peek(std::string_view key, int64_t now_ms) {
  Check c;
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(std::string(key));
  TokenWindow w;
  if (it != s.map.end()) {
    roll(it->second, window_ms_, now_ms);
    w = it->second;
  } else {
    w.window = now_ms / window_ms_;
  }
  const int64_t u = used(w, window_ms_, now_ms);
  c.allowed = u < limit_;
  c.remaining = std::max<int64_t>(0, limit_ - u);
  c.reset_ms = (w.window + 1) * window_ms_ - now_ms;
  if (!c.allowed) c.retry_after_ms = wait_ms(w, limit_, 1, window_ms_, now_ms);
  return c;
}

TokenCounters::Check TokenCounters::reserve(std::string_view key, int64_t tokens, int64_t now_ms,
                                            Reservation& out) {
  Check c;
  Shard& s = shard(key);
  std::lock_guard lock(s.mu);
  if (s.map.size() >= 4096 && s.map.size() % 1024 == 0) sweep(s, now_ms);
  TokenWindow& w = s.map[std::string(key)];
  if (w.window == 0 && w.curr == 0 && w.prev == 0) w.window = now_ms / window_ms_;
  roll(w, window_ms_, now_ms);
  const int64_t u = used(w, window_ms_, now_ms);
  c.reset_ms = (w.window + 1) * window_ms_ - now_ms;
  if (u + tokens > limit_) {
    c.remaining = std::max<int64_t>(0, limit_ - u);
    c.retry_after_ms = wait_ms(w, limit_, tokens, window_ms_, now_ms);
    return c;
  }
  w.curr += tokens;
  c.allowed = true;
  c.remaining = limit_ - u - tokens;
  out.key.assign(key);
  out.window = w.window;
  out.tokens = tokens;
  return c;
}

void TokenCounters::settle(const Reservation& r, int64_t actual, int64_t now_ms) {
  if (r.key.empty()) return;
  const int64_t delta = actual - r.tokens;
  if (delta == 0) return;
  Shard& s = shard(r.key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(r.key);
  if (it == s.map.end()) return;
  TokenWindow& w = it->second;
  roll(w, window_ms_, now_ms);
  // The correction goes where the estimate went; a refund never takes a
  // window below zero, and extra tokens of a long call that began two
  // windows ago count now.
  if (r.window == w.window)
    w.curr = std::max<int64_t>(0, w.curr + delta);
  else if (r.window == w.window - 1)
    w.prev = std::max<int64_t>(0, w.prev + delta);
  else if (delta > 0)
    w.curr += delta;
}

size_t TokenCounters::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace gatehouse::policy::llm_token_limit

namespace gatehouse::policy {

namespace {

using llm_token_limit::Reservation;
using llm_token_limit::TokenCounters;
using rate_limit::KeyBy;
using rate_limit::LimitKey;

constexpr int64_t kMaxTokens = 1'000'000'000'000;  // 10^12 per window
constexpr int64_t kMaxWindowMs = 31LL * 86'400'000;

int64_t ceil_seconds(int64_t ms) { return ms <= 0 ? 0 : (ms + 999) / 1000; }

std::string format_window(int64_t ms) {
  int64_t s = ms / 1000;
  if (s % 86'400 == 0) return std::to_string(s / 86'400) + "d";
  if (s % 3'600 == 0) return std::to_string(s / 3'600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

// by: model / by: provider key on the target of each provider attempt.
enum class TargetBy { kNone, kModel, kProvider };

class LlmTokenLimit final : public Policy, public llm_token_limit::TokenLimiter {
 public:
  int64_t tokens = 0;
  int64_t window_ms = 60'000;
  KeyBy by = KeyBy::kConsumer;
  TargetBy target_by = TargetBy::kNone;
  std::string header;
  int64_t default_output = 256;
  bool headers = true;
  std::string per;  // "per 1m"
  std::shared_ptr<TokenCounters> counters;
  bool cluster = false;  // store: redis
  llm_cluster::ClusterStore store;
  std::string scope;  // Redis keys: where the policy is attached, and its window

  std::string_view name() const override { return "llm-token-limit"; }
  Phase phase() const override { return Phase::kLimit; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    // Cluster-wide, the reservation (one Redis round trip) decides; a
    // synchronous hook must not wait for the network. Per model or provider
    // the target is not known yet (and a fallback may fit).
    if (cluster || target_by != TargetBy::kNone) return Action::kContinue;
    LimitKey key;
    rate_limit::make_limit_key(ctx, by, header, key);
    auto c = counters->peek(key.view(), ctx.now_ms);
    if (headers) add_headers(ctx, c);
    if (c.allowed) return Action::kContinue;
    out.status = 429;
    out.code = "llm_token_limit";
    out.detail = "token limit of " + std::to_string(tokens) + " " + per + " exceeded";
    out.headers.push_back(
        {"Retry-After", std::to_string(std::max<int64_t>(1, ceil_seconds(c.retry_after_ms)))});
    return Action::kRespond;
  }

  bool reserve(RequestContext& ctx, int64_t need, Reservation& r, std::string& why,
               int64_t& retry_after_s) const override {
    LimitKey key;
    rate_limit::make_limit_key(ctx, by, header, key);
    return reserve_key(ctx, key.view(), need, r, why, retry_after_s);
  }

  bool per_target() const override { return target_by != TargetBy::kNone; }

  awaitable<bool> reserve_target_async(RequestContext& ctx, std::string_view model,
                                       std::string_view provider, int64_t need, Reservation& r,
                                       std::string& why, int64_t& retry_after_s) const override {
    if (target_by == TargetBy::kNone)
      co_return co_await reserve_async(ctx, need, r, why, retry_after_s);
    // Keys read as in llm-budget: "model:smart", "provider:openai-main".
    std::string key = target_by == TargetBy::kModel ? "model:" + std::string(model)
                                                    : "provider:" + std::string(provider);
    if (!cluster) co_return reserve_key(ctx, key, need, r, why, retry_after_s);
    co_return co_await reserve_cluster(ctx, key, need, r, why, retry_after_s);
  }

  std::string refusal(int64_t need, int64_t remaining, std::string_view key) const {
    std::string of = target_by == TargetBy::kNone ? std::string() : " (" + std::string(key) + ")";
    if (need > tokens)
      return "this request needs about " + std::to_string(need) +
             " tokens (prompt estimate + max_tokens), more than the limit of " +
             std::to_string(tokens) + " tokens " + per + of;
    return "token limit of " + std::to_string(tokens) + " " + per + of + " exceeded: about " +
           std::to_string(need) + " needed, " + std::to_string(remaining) + " left";
  }

  void settle(const Reservation& r, int64_t actual, int64_t now_ms) const override {
    counters->settle(r, actual, now_ms);
  }

  awaitable<bool> reserve_async(RequestContext& ctx, int64_t need, Reservation& r, std::string& why,
                                int64_t& retry_after_s) const override {
    if (!cluster) co_return reserve(ctx, need, r, why, retry_after_s);
    LimitKey key;
    rate_limit::make_limit_key(ctx, by, header, key);
    co_return co_await reserve_cluster(ctx, std::string(key.view()), need, r, why, retry_after_s);
  }

  bool reserve_key(RequestContext& ctx, std::string_view key, int64_t need, Reservation& r,
                   std::string& why, int64_t& retry_after_s) const {
    auto c = counters->reserve(key, need, ctx.now_ms, r);
    if (headers) add_headers(ctx, c);
    if (c.allowed) return true;
    retry_after_s = std::max<int64_t>(1, ceil_seconds(c.retry_after_ms));
    why = refusal(need, c.remaining, key);
    return false;
  }

  awaitable<bool> reserve_cluster(RequestContext& ctx, std::string k, int64_t need, Reservation& r,
                                  std::string& why, int64_t& retry_after_s) const {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    auto c = co_await llm_cluster::reserve_tokens(store, scope, k, tokens, window_ms, need, now);
    if (c.store_down) {
      if (c.allowed) co_return true;  // on_store_error: open; nothing reserved to settle
      retry_after_s = 1;
      why = "token limit store unreachable (on_store_error: closed)";
      co_return false;
    }
    TokenCounters::Check lc;
    lc.allowed = c.allowed;
    lc.remaining = c.remaining;
    lc.reset_ms = c.reset_ms;
    if (headers) add_headers(ctx, lc);
    if (c.allowed) {
      r.key = k;
      r.window = c.window;
      r.tokens = need;
      co_return true;
    }
    retry_after_s = std::max<int64_t>(1, ceil_seconds(c.retry_after_ms));
    why = refusal(need, c.remaining, k);
    co_return false;
  }

  awaitable<void> settle_async(const Reservation& r, int64_t actual,
                               int64_t now_ms) const override {
    if (!cluster) {
      settle(r, actual, now_ms);
      co_return;
    }
    if (r.key.empty()) co_return;
    co_await llm_cluster::settle_tokens(store, scope, r.key, r.window, window_ms,
                                        actual - r.tokens);
  }
  int64_t default_output_tokens() const override { return default_output; }

 private:
  // OpenAI's header names, which the official SDKs and many clients read;
  // with several token limits the one closest to running out is reported.
  void add_headers(RequestContext& ctx, const TokenCounters::Check& c) const {
    auto& hs = ctx.response_headers;
    for (auto it = hs.begin(); it != hs.end(); ++it) {
      if (it->name != "x-ratelimit-remaining-tokens") continue;
      if (std::stoll(it->value) <= c.remaining) return;
      std::erase_if(hs, [](const http1::Header& h) {
        return h.name.starts_with("x-ratelimit-") && h.name.ends_with("-tokens");
      });
      break;
    }
    hs.push_back({"x-ratelimit-limit-tokens", std::to_string(tokens)});
    hs.push_back({"x-ratelimit-remaining-tokens", std::to_string(c.remaining)});
    hs.push_back({"x-ratelimit-reset-tokens", std::to_string(ceil_seconds(c.reset_ms)) + "s"});
  }
};

}  // namespace

void register_llm_token_limit(Registry& r) {
  r.add("llm-token-limit", [](const config::PolicyRef& ref,
                              const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"tokens", "window", "by", "header", "default_max_tokens", "headers", "store",
                   "redis", "on_store_error"});
    auto p = std::make_shared<LlmTokenLimit>();
    if (!cr.has("tokens"))
      cr.fail("tokens", "missing_field", "how many tokens per window, e.g. tokens: 100000");
    p->tokens = cr.integer("tokens", 1, 1, kMaxTokens);
    if (!cr.has("window"))
      cr.fail("window", "missing_field", "the window length, e.g. window: 1m (1s to 31d)");
    int64_t window = cr.duration_ms("window", 60'000, 1000);
    if (window > kMaxWindowMs) {
      cr.fail("window", "invalid_value", "must be at most 31d");
      window = 60'000;
    } else if (window % 1000 != 0) {
      cr.fail("window", "invalid_value", "must be a whole number of seconds");
      window = 60'000;
    }
    p->window_ms = window;
    std::string by = cr.choice(
        "by", {"consumer", "credential", "ip", "header", "route", "global", "model", "provider"},
        "consumer");
    p->by = rate_limit::parse_key_by(by).value_or(KeyBy::kConsumer);
    if (by == "model") p->target_by = TargetBy::kModel;
    if (by == "provider") p->target_by = TargetBy::kProvider;
    if (p->by == KeyBy::kHeader) {
      p->header = to_lower(trim_ows(cr.str("header")));
      if (p->header.empty())
        cr.fail("header", "missing_field", "by: header needs the header name, e.g. header: x-user");
    } else if (cr.has("header")) {
      cr.fail("header", "invalid_value", "header is only used with by: header");
    }
    p->default_output = cr.integer("default_max_tokens", 256, 0, kMaxTokens);
    p->headers = cr.boolean("headers", true);
    p->store.prefix = "gatehouse:llm-tokens:";
    p->cluster = llm_cluster::read_cluster_store(cr, p->store);
    if (ctx.route && !ctx.route->llm)
      cr.fail("", "invalid_value",
              "llm-token-limit counts LLM tokens: attach it to a route with an llm: block "
              "(or globally)");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    p->per = "per " + format_window(p->window_ms);
    // Every node with the same attachment and window shares the counters.
    p->scope = attachment_id(ctx) + ":" + std::to_string(p->tokens) + "/" +
               format_window(p->window_ms) + ":" + by + (p->header.empty() ? "" : ":" + p->header);
    std::string identity = "llm-token-limit|" + attachment_id(ctx) + "|" +
                           std::to_string(p->tokens) + ";" + std::to_string(p->window_ms) + ";" +
                           by + ";" + p->header;
    p->counters = shared_state<TokenCounters>(
        identity, [&] { return std::make_shared<TokenCounters>(p->tokens, p->window_ms); });
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
