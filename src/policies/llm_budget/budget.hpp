// llm-budget: at most `amount` of money (llm.prices' currency) per calendar
// period (UTC day, week, month, year) per consumer, credential, model,
// provider, route or globally, on routes served by the AI gateway. Like
// llm-token-limit it has a second face for the AI route: before each provider
// attempt the estimate (prompt tokens at the input price + max_tokens at the
// output price) is reserved, and once the call is over the reservation is
// replaced by the real cost from the usage ledger, so N concurrent requests
// cannot together spend past the budget. Counts are quota tables (micro-units
// of money) saved to SQLite like quotas, so restarts keep them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ai/usage/cost.hpp"
#include "net/asio.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy::llm_budget {

// Money <-> the integer micro-units the counts are kept in (rounded up, so
// a reservation never rounds down to nothing).
int64_t to_micros(double money);
double from_micros(int64_t micros);

// What reserve() took, to be settled once the cost is known.
struct Hold {
  std::string key;
  int64_t period_start = 0;
  int64_t micros = 0;
  bool active = false;
  int64_t period_end = 0;  // store: redis: when the period's counter may go
};

// The face the AI route sees (dynamic_cast from the policies that ran).
class BudgetLimiter {
 public:
  virtual ~BudgetLimiter() = default;
  // Reserves `estimate` for a call to `model` at `provider`; false (`why`,
  // `retry_after_s` until the period ends) when it does not fit.
  virtual bool reserve(RequestContext& ctx, std::string_view model, std::string_view provider,
                       double estimate, Hold& out, std::string& why,
                       int64_t& retry_after_s) const = 0;
  // Replaces the reservation by `actual` (0: the call was not answered).
  virtual void settle(Hold& h, double actual) const = 0;
  // What the AI route calls: the same, through Redis with `store: redis`
  // (one round trip each; src/policies/llm_cluster), else reserve()/settle().
  virtual awaitable<bool> reserve_async(RequestContext& ctx, std::string_view model,
                                        std::string_view provider, double estimate, Hold& out,
                                        std::string& why, int64_t& retry_after_s) const {
    co_return reserve(ctx, model, provider, estimate, out, why, retry_after_s);
  }
  virtual awaitable<void> settle_async(Hold& h, double actual) const {
    settle(h, actual);
    co_return;
  }
  // When max_tokens is absent, the output the estimate assumes.
  virtual int64_t default_output_tokens() const = 0;
};

}  // namespace gatehouse::policy::llm_budget
