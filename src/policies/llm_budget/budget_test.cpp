#include "policies/llm_budget/budget.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "policies/quota/usage_table.hpp"

namespace gatehouse::policy::llm_budget {
namespace {

using quota::CountMode;
using quota::Period;
using quota::UsageTable;

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01T00:00:00Z

TEST(LlmBudget, Micros) {
  EXPECT_EQ(to_micros(1.5), 1'500'000);
  EXPECT_EQ(to_micros(0.0000001), 1);  // a reservation never rounds to nothing
  EXPECT_EQ(to_micros(0), 0);
  EXPECT_EQ(to_micros(-3), 0);
  EXPECT_DOUBLE_EQ(from_micros(2'500'000), 2.5);
}

// The budget counts are a quota table in count: success mode with weights.
TEST(LlmBudget, ReserveThenSettleWithTheRealCost) {
  UsageTable t(Period::kMonth, to_micros(1.0), CountMode::kSuccess);
  auto a = t.admit("consumer:alice", kNow, to_micros(0.4));
  ASSERT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining, to_micros(0.6));
  auto b = t.admit("consumer:alice", kNow, to_micros(0.4));
  ASSERT_TRUE(b.allowed);
  // 0.8 reserved: a third estimate of 0.4 does not fit, and counts nothing.
  auto c = t.admit("consumer:alice", kNow, to_micros(0.4));
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.remaining, to_micros(0.2));
  EXPECT_EQ(t.used("consumer:alice", kNow), 0);  // reservations are not spend
  t.settle("consumer:alice", a.period_start, to_micros(0.4), to_micros(0.05));
  EXPECT_EQ(t.used("consumer:alice", kNow), to_micros(0.05));
  EXPECT_TRUE(t.admit("consumer:alice", kNow, to_micros(0.4)).allowed);  // 0.05 + 0.4 + 0.4
  t.settle("consumer:alice", b.period_start, to_micros(0.4), 0);  // not answered: freed
  EXPECT_EQ(t.used("consumer:alice", kNow), to_micros(0.05));
  // What was spent is handed to the writer (saved across restarts).
  auto deltas = t.take_deltas();
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0].count, to_micros(0.05));
  // A settle after the period turned still counts in the period that admitted it.
  auto d = t.admit("consumer:bob", kNow, 10);
  t.settle("consumer:bob", d.period_start - 1, 10, 7);
  bool found = false;
  for (const auto& x : t.take_deltas()) found = found || (x.key == "consumer:bob" && x.count == 7);
  EXPECT_TRUE(found);
}

TEST(LlmBudget, QuotaCallsStillCountOne) {
  UsageTable t(Period::kDay, 2, CountMode::kSuccess);
  auto a = t.admit("k", kNow);
  ASSERT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining, 1);
  t.settle("k", a.period_start, true);
  EXPECT_EQ(t.used("k", kNow), 1);
}

TEST(LlmBudget, ConcurrentReservationsNeverOvershoot) {
  UsageTable t(Period::kDay, to_micros(10.0), CountMode::kSuccess);
  std::atomic<int> admitted{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < 8; ++k)
    ts.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        if (t.admit("global", kNow, to_micros(0.07)).allowed) admitted.fetch_add(1);
    });
  for (auto& th : ts) th.join();
  EXPECT_EQ(admitted.load(), 10'000'000 / 70'000);
}

}  // namespace
}  // namespace gatehouse::policy::llm_budget
