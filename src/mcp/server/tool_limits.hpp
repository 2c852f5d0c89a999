// Per-tool rate limits and quotas on an MCP route (`mcp.tools.limits`). The
// counting is the rate-limit and quota policies' own (CounterStore,
// UsageTable): only the key differs, since a limit is about a tools/call
// inside one HTTP request rather than the request. Built once per snapshot
// on the control thread; the counters survive reloads that leave a rule
// unchanged (policies/rate_limit/shared_state.hpp), quotas survive restarts.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "config/entities.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::rate_limit {
class CounterStore;
}
namespace gatehouse::policy::quota {
class ScopedUsage;
}

namespace gatehouse::mcp::limits {

// A tools/call refused by a limit (implementation-defined range; 429's
// digits, as the HTTP status such a refusal would have had).
inline constexpr int kToolLimited = -32029;

// Why a call was refused, with what the client needs to retry.
struct Refusal {
  bool quota = false;          // a quota ran out (else a rate)
  int64_t limit = 0;           // calls per window / period
  std::string per;             // "1m", "day", ...
  int64_t retry_after_s = 1;   // >= 1
  int64_t reset_s = 0;         // seconds until the window / period rolls over
  std::string message;         // JSON-RPC error message
  boost::json::object data;    // JSON-RPC error data
  std::vector<http1::Header> headers;  // Retry-After, RateLimit-* or X-Quota-*
};

class ToolLimits {
 public:
  // `field` is "routes[i].mcp.tools.limits" (errors name it).
  static Result<std::shared_ptr<const ToolLimits>> build(const config::RouteConfig& route,
                                                         const std::string& field);
  ToolLimits() = default;
  ~ToolLimits();
  ToolLimits(const ToolLimits&) = delete;
  ToolLimits& operator=(const ToolLimits&) = delete;

  // Counts one call of the tool against every rule that matches it: rates
  // first, then quotas (a call a rate refuses spends no quota). The first
  // rule that runs out refuses; rules before it keep the count.
  std::optional<Refusal> admit(const policy::RequestContext& ctx, std::string_view original,
                               std::string_view exposed, int64_t now_ms, int64_t now_s) const;

 private:
  struct Rule;
  std::vector<std::unique_ptr<Rule>> rules_;  // rates, then quotas
};

}  // namespace gatehouse::mcp::limits
