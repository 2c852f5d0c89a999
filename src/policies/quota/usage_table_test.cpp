// The in-memory counts: both counting modes, period roll-over, what the
// writer takes, and exactness across threads. Time is passed in.
#include "policies/quota/usage_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace gatehouse::policy::quota {
namespace {

constexpr int64_t kJan1 = 1704067200;  // 2024-01-01T00:00:00Z, a Monday
constexpr int64_t kDay = 86400;

int64_t sum_for(const std::vector<Delta>& ds, std::string_view key, int64_t start) {
  int64_t n = 0;
  for (const auto& d : ds)
    if (d.key == key && d.period_start == start) n += d.count;
  return n;
}

TEST(QuotaUsage, CountAllAdmitsExactlyTheLimit) {
  UsageTable t(Period::kDay, 3, CountMode::kAll);
  int64_t now = kJan1 + 3600;
  for (int i = 0; i < 3; ++i) {
    Usage u = t.admit("consumer:alice", now);
    EXPECT_TRUE(u.allowed);
    EXPECT_EQ(u.limit, 3);
    EXPECT_EQ(u.remaining, 2 - i);
    EXPECT_EQ(u.period_start, kJan1);
    EXPECT_EQ(u.reset_at, kJan1 + kDay);
  }
  for (int i = 0; i < 5; ++i) {
    Usage u = t.admit("consumer:alice", now);
    EXPECT_FALSE(u.allowed);
    EXPECT_EQ(u.remaining, 0);
    EXPECT_EQ(u.reset_at, kJan1 + kDay);
  }
  EXPECT_EQ(t.used("consumer:alice", now), 3);        // refused calls are not counted
  EXPECT_TRUE(t.admit("consumer:bob", now).allowed);  // a quota of its own
}

TEST(QuotaUsage, NewPeriodStartsFromZero) {
  UsageTable t(Period::kDay, 2, CountMode::kAll);
  EXPECT_TRUE(t.admit("k", kJan1 + 10).allowed);
  EXPECT_TRUE(t.admit("k", kJan1 + 20).allowed);
  EXPECT_FALSE(t.admit("k", kJan1 + kDay - 1).allowed);
  Usage u = t.admit("k", kJan1 + kDay);
  EXPECT_TRUE(u.allowed);
  EXPECT_EQ(u.period_start, kJan1 + kDay);
  EXPECT_EQ(u.remaining, 1);
  // The old period's unsaved counts are kept for the database.
  auto ds = t.take_deltas();
  EXPECT_EQ(sum_for(ds, "k", kJan1), 2);
  EXPECT_EQ(sum_for(ds, "k", kJan1 + kDay), 1);
}

TEST(QuotaUsage, LateClockReadCountsInTheNewerPeriod) {
  UsageTable t(Period::kDay, 5, CountMode::kAll);
  EXPECT_TRUE(t.admit("k", kJan1 + kDay).allowed);  // a thread already saw the new day
  Usage u = t.admit("k", kJan1 + kDay - 1);         // one whose clock read came just before
  EXPECT_TRUE(u.allowed);
  EXPECT_EQ(u.period_start, kJan1 + kDay);
  EXPECT_EQ(t.used("k", kJan1 + kDay), 2);
}

TEST(QuotaUsage, TakeDeltasReturnsEachCountOnce) {
  UsageTable t(Period::kMonth, 100, CountMode::kAll);
  for (int i = 0; i < 4; ++i) (void)t.admit("a", kJan1 + 5);
  (void)t.admit("b", kJan1 + 5);
  auto first = t.take_deltas();
  EXPECT_EQ(sum_for(first, "a", kJan1), 4);
  EXPECT_EQ(sum_for(first, "b", kJan1), 1);
  EXPECT_TRUE(t.take_deltas().empty());
  (void)t.admit("a", kJan1 + 6);
  auto second = t.take_deltas();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].count, 1);
  EXPECT_EQ(t.used("a", kJan1 + 6), 5);  // taking deltas does not change the count
}

TEST(QuotaUsage, SeededCountsAreEnforcedButNotSavedAgain) {
  UsageTable t(Period::kMonth, 5, CountMode::kAll);
  t.seed("consumer:alice", kJan1, 4);
  EXPECT_EQ(t.used("consumer:alice", kJan1 + 100), 4);
  EXPECT_TRUE(t.admit("consumer:alice", kJan1 + 100).allowed);
  EXPECT_FALSE(t.admit("consumer:alice", kJan1 + 100).allowed);
  auto ds = t.take_deltas();
  EXPECT_EQ(sum_for(ds, "consumer:alice", kJan1), 1);
}

TEST(QuotaUsage, CountSuccessReservesThenSettles) {
  UsageTable t(Period::kDay, 2, CountMode::kSuccess);
  int64_t now = kJan1 + 50;
  Usage a = t.admit("k", now);
  Usage b = t.admit("k", now);
  EXPECT_TRUE(a.allowed);
  EXPECT_TRUE(b.allowed);
  EXPECT_EQ(b.remaining, 0);
  // Two in flight: a third would overshoot if both succeed.
  EXPECT_FALSE(t.admit("k", now).allowed);
  EXPECT_EQ(t.used("k", now), 0);        // nothing counted before the outcome
  t.settle("k", a.period_start, false);  // a failed: its slot is free again
  EXPECT_EQ(t.used("k", now), 0);
  Usage c = t.admit("k", now);
  EXPECT_TRUE(c.allowed);
  t.settle("k", b.period_start, true);
  t.settle("k", c.period_start, true);
  EXPECT_EQ(t.used("k", now), 2);
  EXPECT_FALSE(t.admit("k", now).allowed);
  EXPECT_EQ(sum_for(t.take_deltas(), "k", kJan1), 2);
}

TEST(QuotaUsage, SuccessSettledAfterThePeriodEndedIsSavedUnderItsPeriod) {
  UsageTable t(Period::kDay, 1, CountMode::kSuccess);
  Usage a = t.admit("k", kJan1 + kDay - 1);
  ASSERT_TRUE(a.allowed);
  Usage b = t.admit("k", kJan1 + kDay);  // the new day: a's reservation does not carry over
  ASSERT_TRUE(b.allowed);
  t.settle("k", a.period_start, true);
  t.settle("k", b.period_start, true);
  EXPECT_EQ(t.used("k", kJan1 + kDay), 1);
  auto ds = t.take_deltas();
  EXPECT_EQ(sum_for(ds, "k", kJan1), 1);
  EXPECT_EQ(sum_for(ds, "k", kJan1 + kDay), 1);
}

TEST(QuotaUsage, StaleEntriesAreSweptOnceSaved) {
  UsageTable t(Period::kDay, 10, CountMode::kAll);
  for (int i = 0; i < 100; ++i) (void)t.admit("ip:" + std::to_string(i), kJan1 + 10);
  EXPECT_EQ(t.size(), 100u);
  (void)t.take_deltas();
  // Two days later every shard that is touched drops what it no longer needs.
  for (int i = 0; i < 100; ++i) (void)t.admit("ip:" + std::to_string(i), kJan1 + 2 * kDay);
  EXPECT_EQ(t.size(), 100u);  // the same keys, now in the new period
  (void)t.take_deltas();
  for (int i = 100; i < 2000; ++i) (void)t.admit("ip:" + std::to_string(i), kJan1 + 4 * kDay);
  EXPECT_LT(t.size(), 2000u);
}

TEST(QuotaUsage, ExactAcrossThreads) {
  UsageTable t(Period::kYear, 1000, CountMode::kAll);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 400; ++i) allowed += t.admit("global", kJan1 + 99).allowed;
    });
  }
  // The writer takes deltas while workers count.
  int64_t taken = 0;
  for (int i = 0; i < 50; ++i) taken += sum_for(t.take_deltas(), "global", kJan1);
  for (auto& th : threads) th.join();
  taken += sum_for(t.take_deltas(), "global", kJan1);
  EXPECT_EQ(allowed.load(), 1000);
  EXPECT_EQ(taken, 1000);
}

}  // namespace
}  // namespace gatehouse::policy::quota
