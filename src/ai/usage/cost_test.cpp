#include "ai/usage/cost.hpp"

#include <gtest/gtest.h>

namespace gatehouse::ai::usage {
namespace {

config::LlmPriceConfig row(std::string provider, std::string model, double in, double out) {
  config::LlmPriceConfig r;
  r.provider = std::move(provider);
  r.model = std::move(model);
  r.input = in;
  r.output = out;
  return r;
}

TEST(AiCost, ProviderRowWinsAndDefaultsFollowInputAndOutput) {
  std::vector<config::LlmPriceConfig> table = {row("", "gpt-4o", 2.5, 10), row("azure", "gpt-4o", 3, 12)};
  table[0].cache_read = 1.25;
  auto any = find_price(table, "openai", "gpt-4o");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->input, 2.5);
  EXPECT_EQ(any->cache_read, 1.25);
  EXPECT_EQ(any->cache_write, 2.5);  // unset: the input price
  EXPECT_EQ(any->reasoning, 10);     // unset: the output price
  auto az = find_price(table, "azure", "gpt-4o");
  ASSERT_TRUE(az);
  EXPECT_EQ(az->input, 3);
  EXPECT_FALSE(find_price(table, "openai", "gpt-4o-mini"));
}

TEST(AiCost, CostOfTheLedger) {
  Price p{3, 0.3, 3.75, 15, 20};
  Usage u;
  u.input_uncached = 1000;
  u.cache_read = 2000;
  u.cache_write = 400;
  u.output = 500;  // 100 of them reasoning
  u.reasoning = 100;
  // (1000*3 + 2000*0.3 + 400*3.75 + 400*15 + 100*20) / 1e6
  EXPECT_DOUBLE_EQ(cost(p, u), (3000 + 600 + 1500 + 6000 + 2000) / 1e6);
  EXPECT_DOUBLE_EQ(cost(p, Usage{}), 0);
  EXPECT_DOUBLE_EQ(estimate(p, 1000, 200), (1000 * 3 + 200 * 20) / 1e6);
  EXPECT_DOUBLE_EQ(estimate(p, -1, -1), 0);
}

TEST(AiCost, Format) {
  EXPECT_EQ(format_cost(0.000123), "0.000123");
  EXPECT_EQ(format_cost(2), "2");
  EXPECT_EQ(format_cost(0), "0");
  EXPECT_EQ(format_cost(1e-9), "0.000000001");
  EXPECT_EQ(format_cost(1e-10), "0");  // below a billionth: rounds away
}

}  // namespace
}  // namespace gatehouse::ai::usage
