#include "ai/gateway/balance.hpp"

#include <gtest/gtest.h>

#include "ai/gateway/internal.hpp"

namespace gatehouse::ai::gateway {
namespace {

using config::LlmStrategy;

std::vector<config::LlmTargetConfig> three() {
  return {{"a", "m-a", 1}, {"b", "m-b", 1}, {"c", "m-c", 1}};
}

TEST(Balance, WeightedKeepsThePickFirstThenConfigOrder) {
  std::vector<std::optional<usage::Price>> prices(3);
  auto o = order_targets(LlmStrategy::kWeighted, three(), nullptr, prices, 2, {});
  EXPECT_EQ(o, (std::vector<size_t>{2, 0, 1}));
  auto t = three();
  t[1].weight = 0;  // never tried
  o = order_targets(LlmStrategy::kWeighted, t, nullptr, prices, 0, {});
  EXPECT_EQ(o, (std::vector<size_t>{0, 2}));
}

TEST(Balance, LeastInflightPrefersTheIdlestAndBreaksTiesByThePick) {
  std::vector<std::optional<usage::Price>> prices(3);
  TargetState st[3];
  st[0].inflight = 4;
  st[1].inflight = 1;
  st[2].inflight = 1;
  auto o = order_targets(LlmStrategy::kLeastInflight, three(), st, prices, 2, {});
  EXPECT_EQ(o, (std::vector<size_t>{2, 1, 0}));
  {
    InflightGuard g(&st[2]);
    InflightGuard moved = std::move(g);
    EXPECT_EQ(st[2].inflight.load(), 2);
    o = order_targets(LlmStrategy::kLeastInflight, three(), st, prices, 2, {});
    EXPECT_EQ(o, (std::vector<size_t>{1, 2, 0}));
  }
  EXPECT_EQ(st[2].inflight.load(), 1);
}

TEST(Balance, LatencyTriesUnmeasuredTargetsThenTheFastest) {
  std::vector<std::optional<usage::Price>> prices(3);
  TargetState st[3];
  st[0].observe(50'000);
  st[1].observe(5'000);
  auto o = order_targets(LlmStrategy::kLatency, three(), st, prices, 0, {});
  EXPECT_EQ(o, (std::vector<size_t>{2, 1, 0}));  // c has no sample yet
  st[2].observe(90'000);
  o = order_targets(LlmStrategy::kLatency, three(), st, prices, 0, {});
  EXPECT_EQ(o, (std::vector<size_t>{1, 0, 2}));
  // The average moves by an eighth per sample.
  st[1].observe(13'000);
  EXPECT_EQ(st[1].ewma_us.load(), 6'000);
}

TEST(Balance, CostOrdersByTheRequestsEstimateWithUnpricedLast) {
  usage::Price cheap_in;  // cheap input, dear output
  cheap_in.input = 0.1;
  cheap_in.output = 10;
  usage::Price cheap_out;  // dear input, cheap output
  cheap_out.input = 5;
  cheap_out.output = 0.2;
  std::vector<std::optional<usage::Price>> prices = {std::nullopt, cheap_in, cheap_out};
  // A long prompt with a short answer: input price dominates.
  auto o = order_targets(LlmStrategy::kCost, three(), nullptr, prices, 0, {100'000, 10});
  EXPECT_EQ(o, (std::vector<size_t>{1, 2, 0}));
  // A short prompt with a long answer: output price dominates.
  o = order_targets(LlmStrategy::kCost, three(), nullptr, prices, 0, {10, 100'000});
  EXPECT_EQ(o, (std::vector<size_t>{2, 1, 0}));
}

TEST(Balance, BackoffGrowsIsCappedAndJittered) {
  config::LlmRetryConfig rc;
  rc.backoff_ms = 100;
  rc.max_backoff_ms = 1000;
  for (int i = 0; i < 50; ++i) {
    int64_t d0 = detail::backoff_ms(rc, 0), d2 = detail::backoff_ms(rc, 2),
            d9 = detail::backoff_ms(rc, 9);
    EXPECT_GE(d0, 50);
    EXPECT_LE(d0, 100);
    EXPECT_GE(d2, 200);
    EXPECT_LE(d2, 400);
    EXPECT_GE(d9, 500);
    EXPECT_LE(d9, 1000);
  }
}

}  // namespace
}  // namespace gatehouse::ai::gateway
