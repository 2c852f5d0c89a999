#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "common/strings.hpp"
#include "policies/policy.hpp"
#include "policies/rate_limit/counter_store.hpp"
#include "policies/rate_limit/limit_key.hpp"

namespace gatehouse::policy {
void register_rate_limit(Registry& r);
}

namespace gatehouse::policy::rate_limit {
namespace {

Limit sliding(int64_t requests, int64_t window_ms) {
  Limit l;
  l.requests = requests;
  l.window_ms = window_ms;
  return l;
}

Limit bucket(int64_t requests, int64_t window_ms, int64_t burst = 0) {
  Limit l = sliding(requests, window_ms);
  l.algorithm = Algorithm::kTokenBucket;
  l.burst = burst;
  return l;
}

// ------------------------------------------------------------ sliding window

TEST(SlidingWindow, CountsUpToTheLimitInAWindow) {
  Limit l = sliding(5, 1000);
  WindowState s;
  for (int i = 0; i < 5; ++i) {
    Decision d = sliding_window_hit(s, l, 100 + i);
    EXPECT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 5);
    EXPECT_EQ(d.remaining, 4 - i);
  }
  Decision d = sliding_window_hit(s, l, 200);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  // The next window starts at 1000, where the previous 5 still weigh fully;
  // one millisecond later they weigh 4.995, which rounds down below 5.
  EXPECT_EQ(d.retry_after_ms, 801);
  EXPECT_EQ(d.reset_ms, d.retry_after_ms);
  EXPECT_EQ(s.curr, 5);  // a denied request is not counted
}

TEST(SlidingWindow, PreviousWindowIsWeightedByItsShareStillInside) {
  Limit l = sliding(5, 1000);
  WindowState s;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(sliding_window_hit(s, l, 10).allowed);
  // 25% into the next window: estimate 5 * 0.75 = 3.75, admitted (< 5);
  // then 4.75, admitted; then 5.75, refused.
  Decision a = sliding_window_hit(s, l, 1250);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.remaining, 1);
  Decision b = sliding_window_hit(s, l, 1250);
  EXPECT_TRUE(b.allowed);
  EXPECT_EQ(b.remaining, 0);
  Decision c = sliding_window_hit(s, l, 1250);
  EXPECT_FALSE(c.allowed);
  // 5 * (1000 - e) + 2 * 1000 < 5000  <=>  e > 400, i.e. 151 ms later.
  EXPECT_EQ(c.retry_after_ms, 151);
  EXPECT_EQ(c.reset_ms, 151);
  EXPECT_FALSE(sliding_window_hit(s, l, 1400).allowed);
  EXPECT_TRUE(sliding_window_hit(s, l, 1401).allowed);
  EXPECT_EQ(s.prev, 5);
  EXPECT_EQ(s.curr, 3);
}

TEST(SlidingWindow, ResetIsTheWindowEndWhileRequestsRemain) {
  Limit l = sliding(10, 60'000);
  WindowState s;
  Decision d = sliding_window_hit(s, l, 60'000 * 7 + 15'000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(d.reset_ms, 45'000);
  EXPECT_EQ(d.retry_after_ms, 0);
}

TEST(SlidingWindow, ExhaustedWithoutPreviousWindowWaitsIntoTheNext) {
  Limit l = sliding(4, 1000);
  WindowState s;
  for (int i = 0; i < 3; ++i) sliding_window_hit(s, l, 0);
  Decision last = sliding_window_hit(s, l, 600);
  EXPECT_TRUE(last.allowed);
  EXPECT_EQ(last.remaining, 0);
  // Next window: 4 * (1000 - e) < 4000  <=>  e > 0: 400 + 1.
  EXPECT_EQ(last.reset_ms, 401);
  EXPECT_FALSE(sliding_window_hit(s, l, 1000).allowed);
  EXPECT_TRUE(sliding_window_hit(s, l, 1001).allowed);
  EXPECT_FALSE(sliding_window_hit(s, l, 1001).allowed);  // 3.996 + 1 rounds down to 4
  EXPECT_TRUE(sliding_window_hit(s, l, 1251).allowed);   // 4 * 0.749 + 1 = 3.996
}

TEST(SlidingWindow, LimitOfOneBehavesLikeAFixedWindow) {
  // The documented tolerance: with a limit of 1 any weight below 1 rounds
  // down to 0, so the next window admits one at once.
  Limit l = sliding(1, 1000);
  WindowState s;
  EXPECT_TRUE(sliding_window_hit(s, l, 500).allowed);
  Decision d = sliding_window_hit(s, l, 700);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 301);
  EXPECT_FALSE(sliding_window_hit(s, l, 1000).allowed);
  EXPECT_TRUE(sliding_window_hit(s, l, 1001).allowed);
  EXPECT_FALSE(sliding_window_hit(s, l, 1999).allowed);
}

TEST(SlidingWindow, EvenlySpacedClientAtTheLimitIsNeverRefused) {
  Limit l = sliding(5, 1000);
  WindowState s;
  for (int64_t t = 100; t < 100'000; t += 200)
    ASSERT_TRUE(sliding_window_hit(s, l, t).allowed) << t;
  // ...and a sixth in a window is.
  EXPECT_FALSE(sliding_window_hit(s, l, 99'950).allowed);
}

TEST(SlidingWindow, SkippedWindowsForgetEverything) {
  Limit l = sliding(3, 1000);
  WindowState s;
  for (int i = 0; i < 3; ++i) sliding_window_hit(s, l, 0);
  EXPECT_FALSE(sliding_window_idle(s, l, 1999));
  EXPECT_TRUE(sliding_window_idle(s, l, 2000));
  Decision d = sliding_window_hit(s, l, 2000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
}

TEST(SlidingWindow, LateClockReadCountsInTheNewerWindow) {
  Limit l = sliding(2, 1000);
  WindowState s;
  EXPECT_TRUE(sliding_window_hit(s, l, 1000).allowed);  // moved to window 1
  Decision d = sliding_window_hit(s, l, 999);           // read the clock earlier
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(s.window, 1);
  EXPECT_EQ(s.curr, 2);
  EXPECT_FALSE(sliding_window_hit(s, l, 998).allowed);
}

TEST(SlidingWindow, LongWindowsDoNotOverflow) {
  Limit l = sliding(1'000'000'000, int64_t{366} * 86'400'000);
  WindowState s;
  s.window = 3;
  s.prev = 1'000'000'000;
  s.curr = 0;
  Decision d = sliding_window_hit(s, l, 3 * l.window_ms + l.window_ms / 2);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 500'000'000 - 1);
}

// The documented tolerance: never more than `requests` in an aligned window,
// so never more than 2 x requests in any window-long span, whatever the
// arrival pattern.
TEST(SlidingWindow, BoundsHoldForRandomTraffic) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    Limit l = sliding(1 + rng() % 20, 100 + rng() % 900);
    WindowState s;
    std::vector<int64_t> allowed;
    int64_t t = 0;
    for (int i = 0; i < 5000; ++i) {
      t +=
          rng() % 3 == 0 ? static_cast<int64_t>(rng() % static_cast<uint32_t>(l.window_ms)) / 4 : 0;
      int burst = 1 + static_cast<int>(rng() % 5);
      for (int b = 0; b < burst; ++b)
        if (sliding_window_hit(s, l, t).allowed) allowed.push_back(t);
    }
    size_t lo = 0;
    for (size_t hi = 0; hi < allowed.size(); ++hi) {
      while (allowed[lo] <= allowed[hi] - l.window_ms) ++lo;
      ASSERT_LE(static_cast<int64_t>(hi - lo + 1), 2 * l.requests);
    }
    std::map<int64_t, int64_t> per_window;
    for (int64_t a : allowed) ++per_window[a / l.window_ms];
    for (auto [w, n] : per_window) ASSERT_LE(n, l.requests) << "window " << w;
  }
}

TEST(SlidingWindow, SteadyHammeringGetsTheConfiguredRate) {
  Limit l = sliding(50, 1000);
  WindowState s;
  int64_t allowed = 0;
  for (int64_t t = 0; t < 100'000; ++t)  // one request per ms for 100 windows
    allowed += sliding_window_hit(s, l, t).allowed;
  EXPECT_LE(allowed, 100 * 50);
  EXPECT_GE(allowed, 100 * 50 - 50);
}

// -------------------------------------------------------------- token bucket

TEST(TokenBucket, BurstThenRefillAtTheRate) {
  Limit l = bucket(5, 1000, 10);  // one token per 200 ms, up to 10
  BucketState s;
  for (int i = 0; i < 10; ++i) {
    Decision d = token_bucket_hit(s, l, 0);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.limit, 10);
    EXPECT_EQ(d.remaining, 9 - i);
  }
  Decision d = token_bucket_hit(s, l, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 200);
  d = token_bucket_hit(s, l, 150);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 50);
  EXPECT_TRUE(token_bucket_hit(s, l, 200).allowed);
  EXPECT_FALSE(token_bucket_hit(s, l, 200).allowed);
  // One window refills exactly `requests` tokens.
  int n = 0;
  while (token_bucket_hit(s, l, 1200).allowed) ++n;
  EXPECT_EQ(n, 5);
}

TEST(TokenBucket, RefillIsExactForRatesThatDoNotDivideTheWindow) {
  Limit l = bucket(3, 1000, 3);  // a token every 333.33 ms
  BucketState s;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(token_bucket_hit(s, l, 0).allowed);
  EXPECT_FALSE(token_bucket_hit(s, l, 333).allowed);
  EXPECT_TRUE(token_bucket_hit(s, l, 334).allowed);
  int64_t allowed = 0;
  for (int64_t t = 334; t <= 300'334; ++t) allowed += token_bucket_hit(s, l, t).allowed;
  EXPECT_EQ(allowed, 900);  // exactly 3 per second over 300 s
}

TEST(TokenBucket, ResetIsTimeUntilFull) {
  Limit l = bucket(10, 1000);  // burst defaults to requests
  BucketState s;
  Decision d = token_bucket_hit(s, l, 5000);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.limit, 10);
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(d.reset_ms, 100);
  EXPECT_FALSE(token_bucket_idle(s, l, 5099));
  EXPECT_TRUE(token_bucket_idle(s, l, 5100));
}

TEST(TokenBucket, EarlierClockReadRefillsNothing) {
  Limit l = bucket(1, 1000);
  BucketState s;
  EXPECT_TRUE(token_bucket_hit(s, l, 1000).allowed);
  EXPECT_FALSE(token_bucket_hit(s, l, 500).allowed);
  EXPECT_EQ(s.last_ms, 1000);
  EXPECT_TRUE(token_bucket_hit(s, l, 2000).allowed);
}

// ---------------------------------------------------------- the local store

void hammer(CounterStore& store, std::string_view key, int threads, int per_thread, int64_t now,
            std::atomic<int64_t>& allowed) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) allowed += store.hit(key, now).allowed;
    });
  }
  for (auto& t : ts) t.join();
}

TEST(LocalStore, ExactAcrossThreadsSlidingWindow) {
  auto store = make_local_store(sliding(1000, 3'600'000));
  std::atomic<int64_t> allowed{0};
  hammer(*store, "c:alice", 4, 5000, 42, allowed);
  EXPECT_EQ(allowed.load(), 1000);
  allowed = 0;
  // The next window with the previous one 100% still inside: nothing.
  hammer(*store, "c:alice", 4, 100, 3'600'000, allowed);
  EXPECT_EQ(allowed.load(), 0);
  allowed = 0;
  // Half-way through: half of the previous count has faded.
  hammer(*store, "c:alice", 4, 5000, 3'600'000 + 1'800'000, allowed);
  EXPECT_EQ(allowed.load(), 500);
}

TEST(LocalStore, ExactAcrossThreadsTokenBucket) {
  auto store = make_local_store(bucket(100, 1000, 300));
  std::atomic<int64_t> allowed{0};
  hammer(*store, "g:", 4, 2000, 0, allowed);
  EXPECT_EQ(allowed.load(), 300);
  allowed = 0;
  hammer(*store, "g:", 4, 2000, 500, allowed);
  EXPECT_EQ(allowed.load(), 50);
}

TEST(LocalStore, ExactAcrossThreadsWithManyKeys) {
  auto store = make_local_store(sliding(7, 1000));
  std::vector<std::thread> ts;
  std::vector<std::atomic<int64_t>> allowed(50);
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        int k = (i * 7 + t) % 50;
        if (store->hit("i:10.0.0." + std::to_string(k), 10).allowed)
          ++allowed[static_cast<size_t>(k)];
      }
    });
  }
  for (auto& t : ts) t.join();
  for (auto& a : allowed) EXPECT_EQ(a.load(), 7);
  EXPECT_EQ(store->size(), 50u);
}

TEST(LocalStore, IdleEntriesAreSwept) {
  auto store = make_local_store(sliding(5, 1000));
  for (int i = 0; i < 200; ++i) store->hit("i:a" + std::to_string(i), 0);
  EXPECT_EQ(store->size(), 200u);
  // Two windows later the old entries say nothing; every shard that sees a
  // hit drops them (1000 keys touch all 64 shards).
  for (int i = 0; i < 1000; ++i) store->hit("i:b" + std::to_string(i), 2000);
  EXPECT_EQ(store->size(), 1000u);
}

// --------------------------------------------------------------- limit keys

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  Req(std::string ip = "192.0.2.7", std::string route = "orders")
      : ip_(std::move(ip)), route_(std::move(route)) {
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = ip_;
    ctx.route_name = route_;
  }
  std::string ip_, route_;
};

std::string key_of(const RequestContext& ctx, KeyBy by, std::string_view header = {}) {
  LimitKey k;
  make_limit_key(ctx, by, header, k);
  return std::string(k.view());
}

TEST(LimitKey, SelectsByKind) {
  Consumer alice{"alice", {}, 0};
  Req r;
  r.ctx.consumer = &alice;
  r.ctx.credential_id = "key-auth:abc123";
  r.head.headers.push_back({"X-User", " u-42 "});
  EXPECT_EQ(key_of(r.ctx, KeyBy::kConsumer), "c:alice");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kCredential), "k:key-auth:abc123");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kIp), "i:192.0.2.7");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kHeader, "x-user"), "h:u-42");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kRoute), "r:orders");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kGlobal), "g:");
}

TEST(LimitKey, AnonymousFallsBackToTheClientIp) {
  Req r;
  EXPECT_EQ(key_of(r.ctx, KeyBy::kConsumer), "i:192.0.2.7");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kCredential), "i:192.0.2.7");
  // key-auth's `anonymous` consumer comes without a credential.
  Consumer guest{"guest", {}, 1};
  r.ctx.consumer = &guest;
  EXPECT_EQ(key_of(r.ctx, KeyBy::kConsumer), "i:192.0.2.7");
  EXPECT_EQ(key_of(r.ctx, KeyBy::kHeader, "x-user"), "i:192.0.2.7");  // header absent
  r.head.headers.push_back({"x-user", ""});
  EXPECT_EQ(key_of(r.ctx, KeyBy::kHeader, "x-user"), "i:192.0.2.7");  // empty
}

TEST(LimitKey, KindsDoNotCollide) {
  Consumer odd{"192.0.2.7", {}, 0};
  Req r;
  r.ctx.consumer = &odd;
  r.ctx.credential_id = "key-auth:x";
  EXPECT_NE(key_of(r.ctx, KeyBy::kConsumer), key_of(r.ctx, KeyBy::kIp));
}

TEST(LimitKey, LongValuesAreHashed) {
  Req r;
  std::string a(5000, 'a'), b = a;
  b.back() = 'b';
  r.head.headers.push_back({"x-user", a});
  std::string ka = key_of(r.ctx, KeyBy::kHeader, "x-user");
  r.head.headers[0].value = b;
  std::string kb = key_of(r.ctx, KeyBy::kHeader, "x-user");
  EXPECT_EQ(ka.size(), 2u + 32u);
  EXPECT_EQ(ka.substr(0, 2), "h#");
  EXPECT_NE(ka, kb);
  r.head.headers[0].value = std::string(64, 'x');  // the longest kept as is
  EXPECT_EQ(key_of(r.ctx, KeyBy::kHeader, "x-user"), "h:" + std::string(64, 'x'));
}

}  // namespace
}  // namespace gatehouse::policy::rate_limit
