// rate-limit: at most `requests` per `window` per key (consumer, credential,
// IP, header value, route or everything), exact across the node's workers,
// or shared by the cluster's nodes through Redis (store: redis). Counters
// live in a CounterStore found by identity, so a reload that leaves this
// policy's settings alone keeps everyone's counts.
#include <algorithm>
#include <charconv>

#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/rate_limit/counter_store.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"
#include "policies/rate_limit/store_config.hpp"

namespace gatehouse::policy {

namespace {

using rate_limit::Algorithm;
using rate_limit::CounterStore;
using rate_limit::Decision;
using rate_limit::KeyBy;
using rate_limit::Limit;
using rate_limit::LimitKey;

constexpr int64_t kMaxRequests = 1'000'000'000;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMaxWindowMs = 366 * kDayMs;

int64_t ceil_seconds(int64_t ms) { return ms <= 0 ? 0 : (ms + 999) / 1000; }

// "1s", "90s", "5m", "24h", "30d": the largest unit that divides the window.
std::string format_window(int64_t ms) {
  int64_t s = ms / 1000;
  if (s % 86'400 == 0) return std::to_string(s / 86'400) + "d";
  if (s % 3'600 == 0) return std::to_string(s / 3'600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

bool is_ratelimit_header(std::string_view name) {
  return name.size() > 10 && iequals(name.substr(0, 10), "RateLimit-");
}

class RateLimit final : public Policy {
 public:
  Limit limit;
  KeyBy by = KeyBy::kConsumer;
  std::string header;  // by: header
  bool headers = true;
  std::string policy_value;  // RateLimit-Policy, built once
  std::string detail;
  std::shared_ptr<CounterStore> store;

  std::string_view name() const override { return "rate-limit"; }
  Phase phase() const override { return Phase::kLimit; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    LimitKey key;
    rate_limit::make_limit_key(ctx, by, header, key);
    Decision d = store->hit(key.view(), ctx.now_ms);
    if (d.store_unavailable) {
      // The gateway's own trouble, not the client's: 503, never 401/403, and
      // no RateLimit-* headers, as nothing is known about the budget.
      out.status = 503;
      out.code = "rate_limit_store_unavailable";
      out.detail = "the rate-limit counter store is unreachable; try again shortly";
      out.headers.push_back({"Retry-After", "1"});
      return Action::kRespond;
    }
    if (headers) add_headers(ctx, d);
    if (d.allowed) return Action::kContinue;
    out.status = 429;
    out.code = "rate_limited";
    out.detail = detail;
    int64_t retry_s = std::max<int64_t>(1, ceil_seconds(d.retry_after_ms));
    out.headers.push_back({"Retry-After", std::to_string(retry_s)});
    return Action::kRespond;
  }

 private:
  // A request under several limits (a global one and the route's) reports
  // the one closest to running out, as the draft asks; the first wins a tie.
  void add_headers(RequestContext& ctx, const Decision& d) const {
    auto& hs = ctx.response_headers;
    for (const auto& h : hs) {
      if (!iequals(h.name, "RateLimit-Remaining")) continue;
      int64_t earlier = 0;
      std::from_chars(h.value.data(), h.value.data() + h.value.size(), earlier);
      if (earlier <= d.remaining) return;
      std::erase_if(hs, [](const http1::Header& x) { return is_ratelimit_header(x.name); });
      break;
    }
    hs.push_back({"RateLimit-Limit", std::to_string(d.limit)});
    hs.push_back({"RateLimit-Remaining", std::to_string(d.remaining)});
    hs.push_back({"RateLimit-Reset", std::to_string(ceil_seconds(d.reset_ms))});
    hs.push_back({"RateLimit-Policy", policy_value});
  }
};

}  // namespace

void register_rate_limit(Registry& r) {
  r.add("rate-limit", [](const config::PolicyRef& ref,
                         const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"requests", "window", "by", "header", "algorithm", "burst", "headers", "store",
                   "redis", "sync_interval", "on_store_error"});
    auto p = std::make_shared<RateLimit>();

    if (!cr.has("requests"))
      cr.fail("requests", "missing_field", "how many requests per window, e.g. requests: 100");
    p->limit.requests = cr.integer("requests", 1, 1, kMaxRequests);

    if (!cr.has("window"))
      cr.fail("window", "missing_field", "the window length, e.g. window: 1m (1s to 366d)");
    int64_t window = cr.duration_ms("window", 1000, 1000);
    if (window > kMaxWindowMs) {
      cr.fail("window", "invalid_value", "must be at most 366d");
      window = 1000;
    } else if (window % 1000 != 0) {
      // RateLimit-Policy's w= is in whole seconds.
      cr.fail("window", "invalid_value", "must be a whole number of seconds");
      window = 1000;
    }
    p->limit.window_ms = window;

    std::string by = cr.choice("by", {"consumer", "credential", "ip", "header", "route", "global"},
                               "consumer");
    p->by = rate_limit::parse_key_by(by).value_or(KeyBy::kConsumer);
    if (p->by == KeyBy::kHeader) {
      p->header = to_lower(trim_ows(cr.str("header")));
      if (p->header.empty())
        cr.fail("header", "missing_field", "by: header needs the header name, e.g. header: x-user");
    } else if (cr.has("header")) {
      cr.fail("header", "invalid_value", "header is only used with by: header");
    }

    std::string algo = cr.choice("algorithm", {"sliding-window", "token-bucket"}, "sliding-window");
    p->limit.algorithm =
        algo == "token-bucket" ? Algorithm::kTokenBucket : Algorithm::kSlidingWindow;
    if (cr.has("burst") && p->limit.algorithm != Algorithm::kTokenBucket)
      cr.fail("burst", "invalid_value", "burst is only used with algorithm: token-bucket");
    p->limit.burst = cr.integer("burst", 0, 1, kMaxRequests);
    p->headers = cr.boolean("headers", true);
    rate_limit::StoreConfig sc = rate_limit::read_store_config(cr, p->limit);
    if (auto r2 = cr.finish(); !r2) return r2.error();

    const Limit& l = p->limit;
    p->policy_value = std::to_string(l.requests) + ";w=" + std::to_string(l.window_ms / 1000);
    if (l.algorithm == Algorithm::kTokenBucket && l.capacity() != l.requests)
      p->policy_value += ";burst=" + std::to_string(l.capacity());
    p->detail = "rate limit of " + std::to_string(l.requests) + " requests per " +
                format_window(l.window_ms) + " exceeded";

    // Everything that gives a count its meaning; `headers` does not, so
    // turning headers off keeps the counts.
    const std::string where = attachment_id(ctx);
    std::string identity = "rate-limit|" + where + "|" + algo + ";" +
                           std::to_string(l.requests) + ";" + std::to_string(l.window_ms) + ";" +
                           std::to_string(l.capacity()) + ";" + by + ";" + p->header + "|" +
                           sc.identity();
    p->store = shared_state<CounterStore>(identity, [&]() -> std::shared_ptr<CounterStore> {
      if (!sc.redis) return rate_limit::make_local_store(l);
      // Every node has the same config, so the attachment names the same
      // budget everywhere; the window is in the scope as indexes depend on it.
      std::string scope = where + ":" + std::to_string(l.window_ms / 1000) + "s";
      return rate_limit::make_redis_store(l, sc.cluster, std::move(scope));
    });
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
