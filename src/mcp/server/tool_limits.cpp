#include "mcp/server/tool_limits.hpp"

#include <algorithm>

#include "common/settings.hpp"
#include "common/strings.hpp"
#include "mcp/aggregate/merge.hpp"
#include "policies/quota/period.hpp"
#include "policies/quota/usage_table.hpp"
#include "policies/quota/writer.hpp"
#include "policies/rate_limit/counter_store.hpp"
#include "policies/rate_limit/limit_key.hpp"
#include "policies/rate_limit/shared_state.hpp"

namespace gatehouse::mcp::limits {

namespace json = boost::json;
namespace rl = policy::rate_limit;
namespace qt = policy::quota;

struct ToolLimits::Rule {
  config::McpToolLimitConfig cfg;
  rl::KeyBy by = rl::KeyBy::kConsumer;
  std::shared_ptr<rl::CounterStore> store;  // a rate
  std::shared_ptr<qt::ScopedUsage> usage;   // a quota
  std::string per;                          // "1m" / "day"
  std::string policy_value;                 // RateLimit-Policy

  bool matches(std::string_view original, std::string_view exposed) const {
    return std::any_of(cfg.tools.begin(), cfg.tools.end(), [&](const std::string& g) {
      return aggregate::glob_match(g, exposed) || aggregate::glob_match(g, original);
    });
  }
};

namespace {

int64_t ceil_s(int64_t ms) { return ms <= 0 ? 0 : (ms + 999) / 1000; }

// "90s", "5m", "24h", "30d": the largest unit that divides the window.
std::string format_window(int64_t ms) {
  int64_t s = ms / 1000;
  if (s % 86'400 == 0) return std::to_string(s / 86'400) + "d";
  if (s % 3'600 == 0) return std::to_string(s / 3'600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

// What gives a rule's counts their meaning (not its position in the list,
// so inserting a rule before it keeps everyone's counts).
std::string identity(const config::RouteConfig& route, const config::McpToolLimitConfig& c) {
  std::string id = "route:" + route.name + "|tools=";
  for (const auto& t : c.tools) id += t + ",";
  id += ";by=" + c.by + ";header=" + c.header + ";per_tool=" + (c.per_tool ? "1" : "0");
  if (c.quota)
    return "mcp-quota|" + id + ";quota=" + std::to_string(*c.quota) + ";period=" + c.period;
  return "mcp-rate|" + id + ";" + c.algorithm + ";" + std::to_string(c.requests.value_or(1)) +
         ";" + std::to_string(c.window_ms.value_or(1000)) + ";" + std::to_string(c.burst.value_or(0));
}

}  // namespace

ToolLimits::~ToolLimits() = default;

Result<std::shared_ptr<const ToolLimits>> ToolLimits::build(const config::RouteConfig& route,
                                                            const std::string& field) {
  auto out = std::make_shared<ToolLimits>();
  if (!route.mcp) return std::shared_ptr<const ToolLimits>(out);
  const auto& list = route.mcp->tool_limits;
  std::vector<std::unique_ptr<Rule>> quotas;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& c = list[i];
    auto rule = std::make_unique<Rule>();
    rule->cfg = c;
    rule->by = rl::parse_key_by(c.by).value_or(rl::KeyBy::kConsumer);
    std::string id = identity(route, c);
    if (c.quota) {
      auto period = qt::parse_period(c.period).value_or(qt::Period::kDay);
      int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
      auto usage = qt::open_usage(id, process_settings().data_dir, period, *c.quota,
                                  qt::CountMode::kAll, now_s);
      if (!usage) {
        Error e = usage.error();
        e.field = field + "[" + std::to_string(i) + "]";
        e.side = ErrorSide::kConfig;
        e.file = c.pos.file;
        e.line = c.pos.line;
        e.column = c.pos.column;
        return e;
      }
      rule->usage = std::move(usage.value());
      rule->per = c.period;
      quotas.push_back(std::move(rule));
      continue;
    }
    rl::Limit limit;
    limit.algorithm =
        c.algorithm == "token-bucket" ? rl::Algorithm::kTokenBucket : rl::Algorithm::kSlidingWindow;
    limit.requests = c.requests.value_or(1);
    limit.window_ms = c.window_ms.value_or(1000);
    limit.burst = c.burst.value_or(0);
    rule->store = policy::shared_state<rl::CounterStore>(
        id, [&]() -> std::shared_ptr<rl::CounterStore> { return rl::make_local_store(limit); });
    rule->per = format_window(limit.window_ms);
    rule->policy_value =
        std::to_string(limit.requests) + ";w=" + std::to_string(limit.window_ms / 1000);
    if (limit.algorithm == rl::Algorithm::kTokenBucket && limit.capacity() != limit.requests)
      rule->policy_value += ";burst=" + std::to_string(limit.capacity());
    out->rules_.push_back(std::move(rule));
  }
  for (auto& q : quotas) out->rules_.push_back(std::move(q));
  return std::shared_ptr<const ToolLimits>(out);
}

std::optional<Refusal> ToolLimits::admit(const policy::RequestContext& ctx,
                                         std::string_view original, std::string_view exposed,
                                         int64_t now_ms, int64_t now_s) const {
  for (const auto& r : rules_) {
    if (!r->matches(original, exposed)) continue;
    rl::LimitKey base;
    rl::make_limit_key(ctx, r->by, r->cfg.header, base);
    // A per-tool budget: the key names the tool too (exposed names are unique
    // on a route). The separator cannot occur in a limit key's kind prefix.
    std::string key(base.view());
    if (r->cfg.per_tool) {
      key += '\x1f';
      key += exposed;
    }
    Refusal out;
    out.per = r->per;
    if (r->store) {
      rl::Decision d = r->store->hit(key, now_ms);
      if (d.allowed) continue;
      out.limit = d.limit;
      out.retry_after_s = std::max<int64_t>(1, ceil_s(d.retry_after_ms));
      out.reset_s = ceil_s(d.reset_ms);
      out.headers = {{"Retry-After", std::to_string(out.retry_after_s)},
                     {"RateLimit-Limit", std::to_string(d.limit)},
                     {"RateLimit-Remaining", "0"},
                     {"RateLimit-Reset", std::to_string(out.reset_s)},
                     {"RateLimit-Policy", r->policy_value}};
      out.message = "Rate limit exceeded for tool " + std::string(exposed) + ": " +
                    std::to_string(*r->cfg.requests) + " calls per " + r->per + "; retry after " +
                    std::to_string(out.retry_after_s) + "s";
    } else {
      qt::Usage u = r->usage->table().admit(key, now_s);
      if (u.allowed) continue;
      out.quota = true;
      out.limit = u.limit;
      out.reset_s = std::max<int64_t>(0, u.reset_at - now_s);
      out.retry_after_s = std::max<int64_t>(1, out.reset_s);
      out.headers = {{"Retry-After", std::to_string(out.retry_after_s)},
                     {"X-Quota-Limit", std::to_string(u.limit)},
                     {"X-Quota-Remaining", "0"},
                     {"X-Quota-Reset", std::to_string(u.reset_at)}};
      out.message = "Quota exceeded for tool " + std::string(exposed) + ": " +
                    std::to_string(*r->cfg.quota) + " calls per " + r->per + " (UTC); retry after " +
                    std::to_string(out.retry_after_s) + "s";
    }
    out.data = json::object{{"tool", exposed},
                            {"limit", out.quota ? "quota" : "rate"},
                            {"allowed", out.limit},
                            {"per", out.per},
                            {"retryAfter", out.retry_after_s},
                            {"reset", out.reset_s}};
    return out;
  }
  return std::nullopt;
}

}  // namespace gatehouse::mcp::limits
