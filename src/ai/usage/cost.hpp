// Money from the usage ledger: the operator's price table (`llm.prices`,
// money per million tokens of each ledger type) resolved per provider model,
// the cost of a finished request, and the estimate a budget reserves before
// the call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ai/translate/ir.hpp"
#include "config/entities.hpp"

namespace gatehouse::ai::usage {

// Per million tokens, every type filled in (defaults resolved).
struct Price {
  double input = 0;        // uncached input
  double cache_read = 0;
  double cache_write = 0;
  double output = 0;       // output that is not reasoning
  double reasoning = 0;
};

// The row for `model` at `provider`: one naming the provider wins over one
// for any provider; none: no price (the cost is unknown, not zero).
std::optional<Price> find_price(const std::vector<config::LlmPriceConfig>& table,
                                std::string_view provider, std::string_view model);

// The cost of a request's ledger. A partial ledger gives a lower bound.
double cost(const Price& p, const Usage& u);

// What a request may cost at most before it runs: the prompt estimate at the
// input price (no cache discount assumed) and `max_output` at the dearer of
// the output and reasoning prices.
double estimate(const Price& p, int64_t prompt_tokens, int64_t max_output);

// A cost as text: up to 9 decimals, trailing zeros dropped ("0.000123").
std::string format_cost(double c);

}  // namespace gatehouse::ai::usage
