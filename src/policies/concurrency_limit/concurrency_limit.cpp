// concurrency-limit: at most `max` requests in flight per route, consumer or
// client IP on this node. A slot is taken in on_request and given back in
// on_log, which the chain calls for every policy whose on_request ran, on
// every way an exchange ends (answered, rejected by a later policy, upstream
// error, client gone).
#include "policies/concurrency_limit/in_flight.hpp"
#include "policies/config_reader.hpp"
#include "policies/policy.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy {

namespace {

using concurrency_limit::InFlight;
using rate_limit::KeyBy;

constexpr int64_t kMaxInFlight = 1'000'000;

class ConcurrencyLimit final : public Policy {
 public:
  int64_t max = 1;
  KeyBy by = KeyBy::kRoute;
  bool unkeyed = false;  // by route on a route: one counter, the atomic path
  int status = 429;
  std::string detail;
  std::string var;  // ctx.vars entry holding the key of the slot taken
  std::shared_ptr<InFlight> in_flight;

  std::string_view name() const override { return "concurrency-limit"; }
  Phase phase() const override { return Phase::kLimit; }

  Action on_request(RequestContext& ctx, Respond& out) const override {
    rate_limit::LimitKey key;
    if (!unkeyed) rate_limit::make_limit_key(ctx, by, {}, key);
    if (!in_flight->acquire(key.view(), max)) {
      out.status = status;
      out.code = "too_many_concurrent_requests";
      out.detail = detail;
      return Action::kRespond;
    }
    // Only a taken slot is recorded, so on_log after a rejection gives
    // nothing back.
    ctx.vars[var] = std::string(key.view());
    return Action::kContinue;
  }

  void on_log(RequestContext& ctx, int /*status*/) const override {
    auto it = ctx.vars.find(var);
    if (it == ctx.vars.end()) return;
    in_flight->release(it->second);
    ctx.vars.erase(it);  // a second on_log must not release twice
  }
};

}  // namespace

void register_concurrency_limit(Registry& r) {
  r.add("concurrency-limit", [](const config::PolicyRef& ref,
                                const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"max", "by", "status"});
    auto p = std::make_shared<ConcurrencyLimit>();
    if (!cr.has("max"))
      cr.fail("max", "missing_field", "how many requests may be in flight, e.g. max: 10");
    p->max = cr.integer("max", 1, 1, kMaxInFlight);
    std::string by = cr.choice("by", {"route", "consumer", "ip"}, "route");
    p->by = rate_limit::parse_key_by(by).value_or(KeyBy::kRoute);
    p->status = static_cast<int>(cr.integer("status", 429, 429, 503));
    if (p->status != 429 && p->status != 503) {
      cr.fail("status", "invalid_value", "must be 429 or 503");
      p->status = 429;
    }
    if (auto r2 = cr.finish(); !r2) return r2.error();

    std::string where = attachment_id(ctx);
    // A global policy serves every route, so per route needs the route name
    // as key; on a route the route is implied.
    p->unkeyed = p->by == KeyBy::kRoute && where.rfind("route:", 0) == 0;
    p->detail = "more than " + std::to_string(p->max) + " requests in flight" +
                (by == "route" ? " on this route" : by == "consumer" ? " for this consumer"
                                                                      : " from this client");
    p->var = "concurrency-limit|" + where;
    // `max` is not part of the identity: the requests in flight are a fact
    // whatever the limit, so raising or lowering it on a reload keeps them.
    p->in_flight = shared_state<InFlight>("concurrency-limit|" + where + "|" + by,
                                          [] { return std::make_shared<InFlight>(); });
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
