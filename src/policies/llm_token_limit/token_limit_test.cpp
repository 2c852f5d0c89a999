#include "policies/llm_token_limit/token_limit.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace gatehouse::policy::llm_token_limit {
namespace {

constexpr int64_t kMin = 60'000;

TEST(TokenWindow, SlidingWeightOfThePreviousWindow) {
  TokenWindow w{10, 0, 0};
  w.curr = 100;
  roll(w, kMin, 11 * kMin);  // next window: the 100 become `prev`
  EXPECT_EQ(w.prev, 100);
  EXPECT_EQ(w.curr, 0);
  EXPECT_EQ(used(w, kMin, 11 * kMin), 100);           // start: all of prev counts
  EXPECT_EQ(used(w, kMin, 11 * kMin + kMin / 2), 50);  // half way: half of it
  EXPECT_EQ(used(w, kMin, 11 * kMin + kMin / 4), 75);
  roll(w, kMin, 13 * kMin);  // a window skipped: nothing left
  EXPECT_EQ(used(w, kMin, 13 * kMin), 0);
}

TEST(TokenWindow, WaitUntilTokensFit) {
  TokenWindow w{0, 0, 0};
  EXPECT_EQ(wait_ms(w, 1000, 1001, kMin, 0), kMin);  // never fits: a whole window
  w.curr = 1000;
  // Full now: 500 fit once half of this window's count has slid out, i.e.
  // half way through the next window.
  EXPECT_EQ(wait_ms(w, 1000, 500, kMin, 10'000), (kMin - 10'000) + kMin / 2);
  TokenWindow v{1, 0, 1000};  // previous window full, current empty
  EXPECT_EQ(wait_ms(v, 1000, 250, kMin, kMin), kMin / 4);
  EXPECT_EQ(wait_ms(v, 1000, 250, kMin, kMin + kMin / 2), 0);
}

TEST(TokenCounters, ReserveRefusesWithoutCounting) {
  TokenCounters c(1000, kMin);
  Reservation r1, r2, r3;
  EXPECT_TRUE(c.reserve("alice", 600, 0, r1).allowed);
  auto refused = c.reserve("alice", 600, 1, r2);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 400);
  EXPECT_GT(refused.retry_after_ms, 0);
  EXPECT_TRUE(r2.key.empty());
  EXPECT_TRUE(c.reserve("alice", 400, 2, r3).allowed);  // the refusal took nothing
  EXPECT_FALSE(c.peek("alice", 3).allowed);
  EXPECT_TRUE(c.peek("bob", 3).allowed);  // keys are separate
}

TEST(TokenCounters, SettleReplacesTheEstimate) {
  TokenCounters c(1000, kMin);
  Reservation r;
  ASSERT_TRUE(c.reserve("k", 900, 0, r).allowed);  // prompt + max_tokens
  c.settle(r, 120, 5);                              // the call used far less
  EXPECT_EQ(c.peek("k", 6).remaining, 880);
  Reservation r2;
  ASSERT_TRUE(c.reserve("k", 100, 7, r2).allowed);
  c.settle(r2, 300, 8);  // more than estimated (max_tokens absent)
  EXPECT_EQ(c.peek("k", 9).remaining, 580);
  Reservation r3;
  ASSERT_TRUE(c.reserve("k", 80, 10, r3).allowed);
  c.settle(r3, 0, kMin + 1);  // refund after the window turned: from `prev`
  EXPECT_EQ(c.peek("k", kMin + 1).remaining, 1000 - 420);
}

TEST(TokenCounters, ConcurrentReservationsNeverOvershoot) {
  TokenCounters c(10'000, kMin);
  std::atomic<int> admitted{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        Reservation r;
        if (c.reserve("shared", 7, 1000, r).allowed) admitted.fetch_add(1);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(admitted.load(), 10'000 / 7);
}

}  // namespace
}  // namespace gatehouse::policy::llm_token_limit
