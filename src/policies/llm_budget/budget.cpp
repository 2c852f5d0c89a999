// llm-budget: see budget.hpp. Counting and persistence are the quota
// policy's (UsageTable in count: success mode with weights, Writer, SQLite);
// this file is the config, the keys and the AI route's face.
#include "policies/llm_budget/budget.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/settings.hpp"
#include "common/strings.hpp"
#include "policies/config_reader.hpp"
#include "policies/crypto.hpp"
#include "policies/llm_cluster/cluster.hpp"
#include "policies/quota/period.hpp"
#include "policies/quota/writer.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::policy {

namespace llm_budget {

int64_t to_micros(double money) {
  if (!(money > 0)) return 0;
  return static_cast<int64_t>(std::ceil(money * 1e6 - 1e-6));
}

double from_micros(int64_t micros) { return static_cast<double>(micros) / 1e6; }

}  // namespace llm_budget

namespace {

using llm_budget::Hold;
using quota::CountMode;
using quota::Period;

constexpr double kMaxAmount = 1e9;

enum class BudgetBy { kConsumer, kCredential, kModel, kProvider, kRoute, kGlobal };

int64_t wall_clock_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string money(double m) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.6g", m);
  return buf;
}

class LlmBudget final : public Policy, public llm_budget::BudgetLimiter {
 public:
  double amount = 0;
  BudgetBy by = BudgetBy::kConsumer;
  std::string period_name;
  std::string currency;
  int64_t default_output = 1024;
  bool headers = true;
  std::shared_ptr<quota::ScopedUsage> usage;
  bool cluster = false;  // store: redis
  llm_cluster::ClusterStore store;
  std::string scope;

  std::string_view name() const override { return "llm-budget"; }
  Phase phase() const override { return Phase::kLimit; }

  // The model and provider are not known yet: only budgets keyed by the
  // caller or the route can refuse here, when already spent. Cluster-wide
  // the reservation (one Redis round trip) decides.
  Action on_request(RequestContext& ctx, Respond& out) const override {
    if (cluster || by == BudgetBy::kModel || by == BudgetBy::kProvider) return Action::kContinue;
    std::string key = make_key(ctx, {}, {});
    int64_t now = wall_clock_s();
    int64_t used = usage->table().used(key, now);
    if (used < usage->table().limit()) return Action::kContinue;
    int64_t start = quota::period_start(period(), now);
    out.status = 429;
    out.code = "llm_budget";
    out.detail = "budget of " + money(amount) + " " + currency + " per " + period_name +
                 " spent";
    out.headers.push_back(
        {"Retry-After",
         std::to_string(std::max<int64_t>(1, quota::next_period_start(period(), start) - now))});
    return Action::kRespond;
  }

  bool reserve(RequestContext& ctx, std::string_view model, std::string_view provider,
               double estimate, Hold& h, std::string& why,
               int64_t& retry_after_s) const override {
    h = Hold{};
    h.key = make_key(ctx, model, provider);
    int64_t need = llm_budget::to_micros(estimate);
    int64_t now = wall_clock_s();
    quota::Usage u = usage->table().admit(h.key, now, need);
    int64_t reset_s = std::max<int64_t>(1, u.reset_at - now);
    if (headers) add_headers(ctx, u, reset_s);
    if (!u.allowed) {
      retry_after_s = reset_s;
      why = refusal(model, provider, estimate, u.remaining);
      return false;
    }
    h.period_start = u.period_start;
    h.micros = need;
    h.active = true;
    return true;
  }

  void settle(Hold& h, double actual) const override {
    if (!h.active) return;
    usage->table().settle(h.key, h.period_start, h.micros, llm_budget::to_micros(actual));
    h.active = false;
  }

  awaitable<bool> reserve_async(RequestContext& ctx, std::string_view model,
                                std::string_view provider, double estimate, Hold& h,
                                std::string& why, int64_t& retry_after_s) const override {
    if (!cluster) co_return reserve(ctx, model, provider, estimate, h, why, retry_after_s);
    h = Hold{};
    std::string key = make_key(ctx, model, provider);
    const int64_t need = llm_budget::to_micros(estimate);
    const int64_t now = wall_clock_s();
    const int64_t start = quota::period_start(period(), now);
    const int64_t end = quota::next_period_start(period(), start);
    const int64_t limit = llm_budget::to_micros(amount);
    auto c = co_await llm_cluster::reserve_amount(store, scope, key, start, end, limit, need, now);
    if (c.store_down) {
      if (c.allowed) co_return true;  // on_store_error: open; nothing held
      retry_after_s = 1;
      why = "budget store unreachable (on_store_error: closed)";
      co_return false;
    }
    int64_t reset_s = std::max<int64_t>(1, end - now);
    if (headers) {
      quota::Usage u;
      u.remaining = c.remaining;
      add_headers(ctx, u, reset_s);
    }
    if (!c.allowed) {
      retry_after_s = reset_s;
      why = refusal(model, provider, estimate, c.remaining);
      co_return false;
    }
    h.key = std::move(key);
    h.period_start = start;
    h.period_end = end;
    h.micros = need;
    h.active = true;
    co_return true;
  }

  awaitable<void> settle_async(Hold& h, double actual) const override {
    if (!cluster) {
      settle(h, actual);
      co_return;
    }
    if (!h.active) co_return;
    h.active = false;
    co_await llm_cluster::settle_amount(store, scope, h.key, h.period_start, h.period_end,
                                        llm_budget::to_micros(actual) - h.micros, wall_clock_s());
  }

  int64_t default_output_tokens() const override { return default_output; }

 private:
  std::string refusal(std::string_view model, std::string_view provider, double estimate,
                      int64_t remaining_micros) const {
    return "budget of " + money(amount) + " " + currency + " per " + period_name + " (by " +
           by_name() + ") exceeded: this request may cost up to " + money(estimate) +
           " (prompt estimate + max_tokens at " + std::string(provider) + "'s price for " +
           std::string(model) + "), " + money(llm_budget::from_micros(remaining_micros)) + " left";
  }

  Period period() const { return usage->table().period(); }

  std::string by_name() const {
    switch (by) {
      case BudgetBy::kConsumer: return "consumer";
      case BudgetBy::kCredential: return "credential";
      case BudgetBy::kModel: return "model";
      case BudgetBy::kProvider: return "provider";
      case BudgetBy::kRoute: return "route";
      case BudgetBy::kGlobal: return "global";
    }
    return "consumer";
  }

  // Keys read well in the database ("consumer:alice", "model:smart"); an
  // anonymous caller is counted per client IP, as quotas do.
  std::string make_key(const RequestContext& ctx, std::string_view model,
                       std::string_view provider) const {
    switch (by) {
      case BudgetBy::kConsumer:
        if (!rate_limit::is_anonymous(ctx)) return "consumer:" + ctx.consumer->name;
        break;
      case BudgetBy::kCredential:
        if (!rate_limit::is_anonymous(ctx)) return "credential:" + ctx.credential_id;
        break;
      case BudgetBy::kModel: return "model:" + std::string(model);
      case BudgetBy::kProvider: return "provider:" + std::string(provider);
      case BudgetBy::kRoute: return "route:" + std::string(ctx.route_name);
      case BudgetBy::kGlobal: return "global";
    }
    return "ip:" + std::string(ctx.client_ip);
  }

  // Several budgets on one call report the one with the least left.
  void add_headers(RequestContext& ctx, const quota::Usage& u, int64_t reset_s) const {
    auto& hs = ctx.response_headers;
    std::string remaining = money(llm_budget::from_micros(u.remaining));
    for (const auto& h : hs) {
      if (!iequals(h.name, "X-Budget-Remaining")) continue;
      if (std::stod(h.value) <= llm_budget::from_micros(u.remaining)) return;
      std::erase_if(hs, [](const http1::Header& x) {
        return iequals(x.name, "X-Budget-Limit") || iequals(x.name, "X-Budget-Remaining") ||
               iequals(x.name, "X-Budget-Reset");
      });
      break;
    }
    hs.push_back({"X-Budget-Limit", money(amount)});
    hs.push_back({"X-Budget-Remaining", remaining});
    hs.push_back({"X-Budget-Reset", std::to_string(reset_s)});
  }
};

}  // namespace

void register_llm_budget(Registry& r) {
  r.add("llm-budget", [](const config::PolicyRef& ref,
                         const BuildContext& ctx) -> Result<std::shared_ptr<const Policy>> {
    ConfigReader cr(ref, ctx.field);
    cr.allow_only({"amount", "period", "by", "default_max_tokens", "headers", "store", "redis",
                   "on_store_error"});
    auto p = std::make_shared<LlmBudget>();
    if (!cr.has("amount"))
      cr.fail("amount", "missing_field",
              "the money allowed per period, in llm.currency, e.g. amount: 25.5");
    p->amount = cr.number("amount", 1, 0.000001, kMaxAmount);
    if (!cr.has("period"))
      cr.fail("period", "missing_field", "the calendar period, e.g. period: month (day, week, "
                                         "month, year)");
    p->period_name = cr.choice("period", {"day", "week", "month", "year"}, "day");
    Period period = quota::parse_period(p->period_name).value_or(Period::kDay);
    std::string by = cr.choice(
        "by", {"consumer", "credential", "model", "provider", "route", "global"}, "consumer");
    const std::pair<const char*, BudgetBy> bys[] = {
        {"consumer", BudgetBy::kConsumer}, {"credential", BudgetBy::kCredential},
        {"model", BudgetBy::kModel},       {"provider", BudgetBy::kProvider},
        {"route", BudgetBy::kRoute},       {"global", BudgetBy::kGlobal}};
    for (const auto& [n, b] : bys)
      if (by == n) p->by = b;
    p->default_output = cr.integer("default_max_tokens", 1024, 0, 10'000'000);
    p->headers = cr.boolean("headers", true);
    p->store.prefix = "gatehouse:llm-budget:";
    p->cluster = llm_cluster::read_cluster_store(cr, p->store);
    if (ctx.route && !ctx.route->llm)
      cr.fail("", "invalid_value",
              "llm-budget counts LLM spend: attach it to a route with an llm: block "
              "(or globally)");
    if (auto r2 = cr.finish(); !r2) return r2.error();
    p->currency = ctx.config ? ctx.config->llm.currency : "USD";
    // The database keys its rows by this scope: an unchanged policy finds
    // its spend after a reload or a restart.
    std::string scope = "llm-budget|" + attachment_id(ctx) + "|amount=" + money(p->amount) +
                        ";period=" + p->period_name + ";by=" + by;
    p->scope = attachment_id(ctx) + ":" + money(p->amount) + "/" + p->period_name + ":" + by;
    auto usage = quota::open_usage(scope, process_settings().data_dir, period,
                                   llm_budget::to_micros(p->amount), CountMode::kSuccess,
                                   wall_clock_s());
    if (!usage) {
      Error e = usage.error();
      e.field = ctx.field;
      e.side = ErrorSide::kConfig;
      e.file = ref.pos.file;
      e.line = ref.pos.line;
      e.column = ref.pos.column;
      return e;
    }
    p->usage = std::move(usage.value());
    return std::shared_ptr<const Policy>(p);
  });
}

}  // namespace gatehouse::policy
