#include "config/validate_mcp_limits.hpp"

#include <vector>

#include "config/loader.hpp"
#include "config/loader_reader.hpp"

namespace gatehouse::config {

namespace {

// The same bounds as the rate-limit and quota policies.
constexpr int64_t kMaxCount = 1'000'000'000'000;
constexpr int64_t kMaxWindowMs = 366LL * 86'400'000;

void one_of(const std::string& value, const std::vector<std::string>& names,
            const SourcePos& pos, const std::string& field, const LimitErrorFn& error) {
  for (const auto& n : names)
    if (value == n) return;
  error(pos, field, "invalid_value",
        "unknown value " + detail::in_quotes(value) + did_you_mean(value, names) +
            "; expected one of: " + detail::joined(names));
}

void count(const std::optional<int64_t>& v, const SourcePos& pos, const std::string& field,
           const LimitErrorFn& error) {
  if (v && (*v < 1 || *v > kMaxCount))
    error(pos, field, "invalid_value", "must be between 1 and 10^12");
}

}  // namespace

void check_mcp_tool_limits(const RouteConfig& route, const std::string& field,
                           const LimitErrorFn& error) {
  if (!route.mcp) return;
  const auto& limits = route.mcp->tool_limits;
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    const std::string f = field + "[" + std::to_string(i) + "]";
    const SourcePos& at = l.pos;
    if (l.tools.empty())
      error(at, f + ".tools", "missing_field",
            "a tool limit names the tools it counts (globs: '*' and '?')");
    for (size_t k = 0; k < l.tools.size(); ++k)
      if (l.tools[k].empty())
        error(at, f + ".tools[" + std::to_string(k) + "]", "invalid_value",
              "a tool glob cannot be empty");
    one_of(l.by, {"consumer", "credential", "ip", "header", "route", "global"}, at, f + ".by",
           error);
    if (l.by == "header" && l.header.empty())
      error(at, f + ".header", "missing_field",
            "by: header needs the header name, e.g. header: x-user");
    if (l.by != "header" && !l.header.empty())
      error(at, f + ".header", "invalid_value", "header is only used with by: header");

    if (l.requests && l.quota) {
      error(at, f + ".quota", "conflicting_fields",
            "a tool limit is a rate (requests per window) or a quota (per period), not both; "
            "write two limits");
      continue;
    }
    if (!l.requests && !l.quota) {
      error(at, f, "missing_field",
            "a tool limit needs requests + window (a rate) or quota + period (a quota)");
      continue;
    }
    if (l.requests) {
      count(l.requests, at, f + ".requests", error);
      if (!l.window_ms)
        error(at, f + ".window", "missing_field", "requests needs a window, e.g. window: 1m");
      else if (*l.window_ms < 1000 || *l.window_ms > kMaxWindowMs || *l.window_ms % 1000 != 0)
        error(at, f + ".window", "invalid_value",
              "must be a whole number of seconds from 1s to 366d");
      one_of(l.algorithm, {"sliding-window", "token-bucket"}, at, f + ".algorithm", error);
      if (l.burst && l.algorithm != "token-bucket")
        error(at, f + ".burst", "invalid_value", "burst is only used with algorithm: token-bucket");
      else
        count(l.burst, at, f + ".burst", error);
      if (!l.period.empty())
        error(at, f + ".period", "invalid_value", "period belongs to a quota (quota + period)");
    } else {
      count(l.quota, at, f + ".quota", error);
      if (l.period.empty())
        error(at, f + ".period", "missing_field",
              "quota needs a period: day, week, month or year");
      else
        one_of(l.period, {"day", "week", "month", "year"}, at, f + ".period", error);
      if (l.window_ms)
        error(at, f + ".window", "invalid_value", "window belongs to a rate (requests + window)");
      if (l.burst)
        error(at, f + ".burst", "invalid_value", "burst belongs to a rate (requests + window)");
    }
  }
}

}  // namespace gatehouse::config
