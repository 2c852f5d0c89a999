#include "ai/usage/cost.hpp"

#include <algorithm>
#include <cstdio>

namespace gatehouse::ai::usage {

std::optional<Price> find_price(const std::vector<config::LlmPriceConfig>& table,
                                std::string_view provider, std::string_view model) {
  const config::LlmPriceConfig* any = nullptr;
  for (const auto& row : table) {
    if (row.model != model) continue;
    if (row.provider == provider) {
      any = &row;
      break;
    }
    if (row.provider.empty() && !any) any = &row;
  }
  if (!any) return std::nullopt;
  Price p;
  p.input = any->input;
  p.output = any->output;
  p.cache_read = any->cache_read >= 0 ? any->cache_read : any->input;
  p.cache_write = any->cache_write >= 0 ? any->cache_write : any->input;
  p.reasoning = any->reasoning >= 0 ? any->reasoning : any->output;
  return p;
}

double cost(const Price& p, const Usage& u) {
  const int64_t reasoning = std::clamp<int64_t>(u.reasoning, 0, std::max<int64_t>(u.output, 0));
  const double per_token =
      static_cast<double>(u.input_uncached) * p.input +
      static_cast<double>(u.cache_read) * p.cache_read +
      static_cast<double>(u.cache_write) * p.cache_write +
      static_cast<double>(u.output - reasoning) * p.output +
      static_cast<double>(reasoning) * p.reasoning;
  return per_token / 1e6;
}

double estimate(const Price& p, int64_t prompt_tokens, int64_t max_output) {
  return (static_cast<double>(std::max<int64_t>(prompt_tokens, 0)) * p.input +
          static_cast<double>(std::max<int64_t>(max_output, 0)) * std::max(p.output, p.reasoning)) /
         1e6;
}

std::string format_cost(double c) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", c);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s.empty() ? "0" : s;
}

}  // namespace gatehouse::ai::usage
