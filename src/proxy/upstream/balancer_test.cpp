#include "proxy/upstream/balancer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>

namespace gatehouse::proxy {
namespace {

using config::BalancerConfig;
using config::BalancerKind;
using config::TargetConfig;
using std::chrono::microseconds;
using std::chrono::milliseconds;

std::vector<TargetConfig> make_targets(const std::vector<uint32_t>& weights) {
  std::vector<TargetConfig> out;
  for (size_t i = 0; i < weights.size(); ++i) {
    TargetConfig t;
    t.host = "10.0.0." + std::to_string(i + 1);
    t.port = 80;
    t.address = t.host + ":80";
    t.weight = weights[i];
    out.push_back(t);
  }
  return out;
}

std::vector<std::shared_ptr<TargetState>> make_states(size_t n) {
  std::vector<std::shared_ptr<TargetState>> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::make_shared<TargetState>());
  return out;
}

// A balancer together with the targets and states it borrows.
struct Fixture {
  std::vector<TargetConfig> targets;
  std::vector<std::shared_ptr<TargetState>> states;
  std::unique_ptr<Balancer> lb;

  Fixture(BalancerKind kind, const std::vector<uint32_t>& weights, uint64_t seed = 42)
      : targets(make_targets(weights)), states(make_states(weights.size())) {
    BalancerConfig cfg;
    cfg.kind = kind;
    lb = make_balancer(cfg, targets, states, seed);
  }
  int pick(int64_t now_ms = 0, std::string_view key = {},
           const std::vector<bool>* exclude = nullptr) {
    PickContext ctx;
    ctx.now_ms = now_ms;
    ctx.hash_key = key;
    TargetSet tried;
    if (exclude) tried = TargetSet::of(*exclude);
    ctx.exclude = exclude ? &tried : nullptr;
    return lb->pick(ctx);
  }
  std::vector<int> counts(int picks, int64_t now_ms = 0) {
    std::vector<int> c(targets.size(), 0);
    for (int i = 0; i < picks; ++i) {
      int t = pick(now_ms);
      if (t >= 0) ++c[t];
    }
    return c;
  }
};

const BalancerKind kAllKinds[] = {BalancerKind::kRoundRobin, BalancerKind::kLeastRequest,
                                  BalancerKind::kConsistentHash, BalancerKind::kEwma};

// --- Round robin -----------------------------------------------------------

TEST(TargetSet, InlineAndSpilledSetsAgree) {
  for (size_t n : {size_t{3}, size_t{64}, size_t{65}, size_t{200}}) {
    TargetSet s(n);
    for (size_t i = 0; i < n; ++i) EXPECT_FALSE(s.contains(i)) << n;
    s.set(0, true);
    s.set(n - 1, true);
    s.set(n, true);  // past the targets: ignored
    EXPECT_TRUE(s.contains(0)) << n;
    EXPECT_TRUE(s.contains(n - 1)) << n;
    EXPECT_FALSE(s.contains(n)) << n;
    EXPECT_FALSE(s.contains(n + 100)) << n;
    if (n > 2) {
      EXPECT_FALSE(s.contains(1)) << n;
    }
    s.set(0, false);
    EXPECT_FALSE(s.contains(0)) << n;
    EXPECT_TRUE(s.contains(n - 1)) << n;
    s.clear();
    EXPECT_FALSE(s.contains(n - 1)) << n;
  }
  auto s = TargetSet::of(std::vector<bool>{true, false, true});
  EXPECT_TRUE(s.contains(0));
  EXPECT_FALSE(s.contains(1));
  EXPECT_TRUE(s.contains(2));
  EXPECT_FALSE(s.contains(3));
}

TEST(TargetSet, RetriesSkipTriedTargetsPastSixtyFour) {
  // A balancer over 70 targets with every one but the last tried picks the last.
  std::vector<uint32_t> weights(70, 1);
  for (auto kind : kAllKinds) {
    Fixture f(kind, weights);
    std::vector<bool> tried(70, true);
    tried[69] = false;
    for (int i = 0; i < 20; ++i) EXPECT_EQ(f.pick(0, "k" + std::to_string(i), &tried), 69);
  }
}

TEST(BalancerRoundRobin, SmoothWeightedSequenceMatchesNginx) {
  Fixture f(BalancerKind::kRoundRobin, {5, 1, 1});
  // nginx's documented sequence for 5:1:1 is a a b a c a a, then it repeats.
  const std::vector<int> cycle = {0, 0, 1, 0, 2, 0, 0};
  for (int round = 0; round < 3; ++round)
    for (size_t i = 0; i < cycle.size(); ++i)
      EXPECT_EQ(f.pick(), cycle[i]) << "round " << round << " pick " << i;
}

TEST(BalancerRoundRobin, DistributionIsExactlyProportionalPerCycle) {
  Fixture f(BalancerKind::kRoundRobin, {3, 2, 1, 0});
  auto c = f.counts(6'000);
  EXPECT_EQ(c[0], 3'000);
  EXPECT_EQ(c[1], 2'000);
  EXPECT_EQ(c[2], 1'000);
  EXPECT_EQ(c[3], 0);  // weight 0 is drained
}

TEST(BalancerRoundRobin, NeverTwoInARowForEqualWeights) {
  Fixture f(BalancerKind::kRoundRobin, {1, 1, 1});
  int prev = -1;
  for (int i = 0; i < 30; ++i) {
    int t = f.pick();
    EXPECT_NE(t, prev);
    prev = t;
  }
}

TEST(BalancerRoundRobin, SkipsUnhealthyAndEjectedTargets) {
  Fixture f(BalancerKind::kRoundRobin, {1, 1, 1});
  f.states[1]->active_healthy = false;
  f.states[2]->ejected_until_ms = 1'000;
  auto c = f.counts(300, /*now_ms=*/500);
  EXPECT_EQ(c[0], 300);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2], 0);
  // The ejection expires on its own; the unhealthy target stays out.
  c = f.counts(300, /*now_ms=*/1'000);
  EXPECT_EQ(c[0], 150);
  EXPECT_EQ(c[1], 0);
  EXPECT_EQ(c[2], 150);
}

TEST(BalancerRoundRobin, ReturningTargetDoesNotGetABurst) {
  Fixture f(BalancerKind::kRoundRobin, {1, 1});
  f.states[1]->active_healthy = false;
  f.counts(100);
  f.states[1]->active_healthy = true;
  int prev = -1;
  for (int i = 0; i < 10; ++i) {
    int t = f.pick();
    EXPECT_NE(t, prev);
    prev = t;
  }
}

// --- Behaviour every balancer shares -----------------------------------------

TEST(BalancerAll, EmptyTargetListReturnsMinusOne) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {});
    EXPECT_EQ(f.pick(), -1) << static_cast<int>(kind);
    EXPECT_EQ(f.pick(0, "key"), -1) << static_cast<int>(kind);
  }
}

TEST(BalancerAll, HonoursExclude) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {1, 1, 1});
    std::vector<bool> ex = {true, false, true};
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(f.pick(0, {}, &ex), 1) << static_cast<int>(kind);
      EXPECT_EQ(f.pick(0, "user-" + std::to_string(i), &ex), 1) << static_cast<int>(kind);
    }
    // An exclude vector shorter than the target list leaves the rest pickable.
    std::vector<bool> short_ex = {true};
    for (int i = 0; i < 100; ++i) EXPECT_NE(f.pick(0, {}, &short_ex), 0);
  }
}

TEST(BalancerAll, SkipsUnavailableTargets) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {1, 1, 1});
    f.states[0]->ejected_until_ms = 10'000;
    f.states[2]->active_healthy = false;
    for (int i = 0; i < 200; ++i) {
      EXPECT_EQ(f.pick(5'000), 1) << static_cast<int>(kind);
      EXPECT_EQ(f.pick(5'000, "k" + std::to_string(i)), 1) << static_cast<int>(kind);
    }
  }
}

TEST(BalancerAll, PanicModeIgnoresHealthButNotWeightOrExclude) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {1, 1, 0, 1});
    for (auto& s : f.states) s->active_healthy = false;
    std::vector<bool> ex = {false, true, false, false};
    std::vector<int> c(4, 0);
    for (int i = 0; i < 400; ++i) {
      int t = f.pick(0, {}, &ex);
      ASSERT_GE(t, 0) << static_cast<int>(kind);
      ++c[t];
      t = f.pick(0, "k" + std::to_string(i), &ex);
      ASSERT_GE(t, 0) << static_cast<int>(kind);
      ++c[t];
    }
    EXPECT_EQ(c[1], 0) << static_cast<int>(kind);  // excluded
    EXPECT_EQ(c[2], 0) << static_cast<int>(kind);  // weight 0
    EXPECT_GT(c[0], 0) << static_cast<int>(kind);
    EXPECT_GT(c[3], 0) << static_cast<int>(kind);

    // Only excluded or drained targets left: nothing to try.
    std::vector<bool> all_ex = {true, true, false, true};
    EXPECT_EQ(f.pick(0, {}, &all_ex), -1) << static_cast<int>(kind);
    EXPECT_EQ(f.pick(0, "key", &all_ex), -1) << static_cast<int>(kind);
  }
}

TEST(BalancerAll, AllWeightZeroReturnsMinusOne) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {0, 0});
    EXPECT_EQ(f.pick(), -1) << static_cast<int>(kind);
    EXPECT_EQ(f.pick(0, "key"), -1) << static_cast<int>(kind);
  }
}

TEST(BalancerAll, HooksIgnoreOutOfRangeTargets) {
  for (auto kind : kAllKinds) {
    Fixture f(kind, {1});
    f.lb->on_start(-1);
    f.lb->on_start(7);
    f.lb->on_finish(-1, microseconds(10), true);
    f.lb->on_finish(7, microseconds(10), false);
    f.lb->on_finish(0, microseconds(10), true);  // finish without start
    EXPECT_EQ(f.pick(), 0);
  }
}

// --- Least request -----------------------------------------------------------

TEST(BalancerLeastRequest, PrefersLessLoadedTarget) {
  Fixture f(BalancerKind::kLeastRequest, {1, 1, 1});
  for (int i = 0; i < 10; ++i) f.lb->on_start(0);
  // Two distinct candidates are drawn, so the loaded target never wins.
  auto c = f.counts(3'000);
  EXPECT_EQ(c[0], 0);
  EXPECT_GT(c[1], 1'000);
  EXPECT_GT(c[2], 1'000);
  // Once its requests finish it is back in rotation.
  for (int i = 0; i < 10; ++i) f.lb->on_finish(0, microseconds(100), true);
  c = f.counts(3'000);
  EXPECT_GT(c[0], 800);
}

TEST(BalancerLeastRequest, TracksItsOwnOutstandingRequests) {
  Fixture f(BalancerKind::kLeastRequest, {1, 1});
  // Starting every pick and never finishing keeps both within one request.
  std::vector<int> c(2, 0);
  for (int i = 0; i < 1'000; ++i) {
    int t = f.pick();
    ++c[t];
    f.lb->on_start(t);
    EXPECT_LE(std::abs(c[0] - c[1]), 1);
  }
}

TEST(BalancerLeastRequest, ComparesOutstandingPerWeight) {
  Fixture f(BalancerKind::kLeastRequest, {4, 1});
  for (int i = 0; i < 3; ++i) f.lb->on_start(0);
  f.lb->on_start(1);
  // 3/4 < 1/1: the heavier target still has room.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(f.pick(), 0);
  for (int i = 0; i < 2; ++i) f.lb->on_start(0);
  // 5/4 > 1/1.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(f.pick(), 1);
}

TEST(BalancerLeastRequest, IdleUpstreamSplitsByWeight) {
  Fixture f(BalancerKind::kLeastRequest, {3, 1});
  auto c = f.counts(40'000);
  double share = c[0] / 40'000.0;
  EXPECT_NEAR(share, 0.75, 0.02);
}

TEST(BalancerLeastRequest, SeedsGiveDifferentSequences) {
  Fixture a(BalancerKind::kLeastRequest, {1, 1, 1, 1, 1}, 1);
  Fixture b(BalancerKind::kLeastRequest, {1, 1, 1, 1, 1}, 2);
  int same = 0;
  for (int i = 0; i < 200; ++i) same += a.pick() == b.pick();
  EXPECT_LT(same, 120);
}

// --- Consistent hash ---------------------------------------------------------

// Keys mapped to target addresses, so rings over different lists compare.
std::vector<std::string> map_keys(const std::vector<TargetConfig>& targets, int n) {
  HashRing ring(targets);
  std::vector<std::string> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i)
    out.push_back(targets[ring.first("key-" + std::to_string(i))].address);
  return out;
}

TEST(BalancerHashRing, VirtualNodesScaleWithWeight) {
  EXPECT_EQ(HashRing(make_targets({1, 2, 0})).size(), 3u * 160);
  EXPECT_EQ(HashRing(make_targets({1, 1}), 10).size(), 20u);
  EXPECT_EQ(HashRing(make_targets({})).first("x"), -1);
}

TEST(BalancerHashRing, SpreadsKeysEvenlyAndByWeight) {
  auto targets = make_targets({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  auto keys = map_keys(targets, 100'000);
  std::unordered_map<std::string, int> c;
  for (const auto& a : keys) ++c[a];
  ASSERT_EQ(c.size(), 10u);
  for (const auto& [addr, n] : c) {
    EXPECT_GT(n, 7'000) << addr;
    EXPECT_LT(n, 13'000) << addr;
  }
  auto weighted = make_targets({2, 1, 1});
  auto wkeys = map_keys(weighted, 100'000);
  int heavy = 0;
  for (const auto& a : wkeys) heavy += a == weighted[0].address;
  EXPECT_NEAR(heavy / 100'000.0, 0.5, 0.05);
}

TEST(BalancerHashRing, RemovingOneOfTenRemapsOnlyItsKeys) {
  constexpr int kKeys = 100'000;
  auto targets = make_targets(std::vector<uint32_t>(10, 1));
  auto before = map_keys(targets, kKeys);
  const std::string removed = targets[3].address;
  targets.erase(targets.begin() + 3);
  auto after = map_keys(targets, kKeys);
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    EXPECT_EQ(before[i], removed) << "key-" << i << " moved without cause";
  }
  double pct = 100.0 * moved / kKeys;
  std::printf("[ remap ] removing 1 of 10 targets moved %.2f%% of %d keys\n", pct, kKeys);
  RecordProperty("remap_remove_percent", std::to_string(pct));
  EXPECT_LT(pct, 15.0);
  EXPECT_GT(pct, 5.0);
}

TEST(BalancerHashRing, AddingAnEleventhRemapsAboutOneEleventh) {
  constexpr int kKeys = 100'000;
  auto targets = make_targets(std::vector<uint32_t>(11, 1));
  const std::string added = targets.back().address;
  auto ten = targets;
  ten.pop_back();
  auto before = map_keys(ten, kKeys);
  auto after = map_keys(targets, kKeys);
  int moved = 0;
  for (int i = 0; i < kKeys; ++i) {
    if (before[i] == after[i]) continue;
    ++moved;
    EXPECT_EQ(after[i], added) << "key-" << i << " moved to an old target";
  }
  double pct = 100.0 * moved / kKeys;
  std::printf("[ remap ] adding an 11th target moved %.2f%% of %d keys (ideal %.2f%%)\n", pct,
              kKeys, 100.0 / 11);
  RecordProperty("remap_add_percent", std::to_string(pct));
  EXPECT_GT(pct, 100.0 / 11 * 0.6);
  EXPECT_LT(pct, 100.0 / 11 * 1.4);
}

TEST(BalancerConsistentHash, SameKeySameTargetAcrossInstances) {
  Fixture a(BalancerKind::kConsistentHash, {1, 1, 1, 1, 1}, 1);
  Fixture b(BalancerKind::kConsistentHash, {1, 1, 1, 1, 1}, 99);
  std::vector<int> c(5, 0);
  for (int i = 0; i < 1'000; ++i) {
    std::string key = "client-" + std::to_string(i);
    int t = a.pick(0, key);
    ++c[t];
    EXPECT_EQ(t, a.pick(0, key));
    EXPECT_EQ(t, b.pick(0, key));  // other workers, other seeds: same answer
  }
  for (int n : c) EXPECT_GT(n, 100);
}

TEST(BalancerConsistentHash, EjectionMovesOnlyThatTargetsKeysLikeRemoval) {
  constexpr int kKeys = 20'000;
  Fixture f(BalancerKind::kConsistentHash, std::vector<uint32_t>(10, 1));
  std::vector<int> before(kKeys);
  for (int i = 0; i < kKeys; ++i) before[i] = f.pick(0, "key-" + std::to_string(i));
  f.states[3]->ejected_until_ms = 1'000;
  auto without = f.targets;
  without.erase(without.begin() + 3);
  HashRing removed(without);
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "key-" + std::to_string(i);
    int t = f.pick(0, key);
    if (before[i] != 3) {
      EXPECT_EQ(t, before[i]);
    }
    // Walking past an ejected target lands where removing it would.
    EXPECT_EQ(f.targets[t].address, without[removed.first(key)].address);
  }
  // When the ejection ends, keys come home.
  for (int i = 0; i < kKeys; ++i) EXPECT_EQ(f.pick(1'000, "key-" + std::to_string(i)), before[i]);
}

TEST(BalancerConsistentHash, EmptyKeyFallsBackToRoundRobin) {
  Fixture f(BalancerKind::kConsistentHash, {5, 1, 1});
  const std::vector<int> cycle = {0, 0, 1, 0, 2, 0, 0};
  for (int v : cycle) EXPECT_EQ(f.pick(), v);
}

// --- EWMA --------------------------------------------------------------------

// Runs `n` sequential requests through `f`, one per millisecond from `*now`,
// with the latency of the target picked; returns the picks per target.
std::vector<int> run_ewma(Fixture& f, const std::vector<int64_t>& latency_us, int n, int64_t* now,
                          const std::vector<bool>& fails = {}) {
  std::vector<int> c(f.targets.size(), 0);
  for (int i = 0; i < n; ++i, ++*now) {
    int t = f.pick(*now);
    ++c[t];
    f.lb->on_start(t);
    bool ok = !(static_cast<size_t>(t) < fails.size() && fails[t]);
    f.lb->on_finish(t, microseconds(latency_us[t]), ok);
  }
  return c;
}

TEST(BalancerEwma, PrefersTheFasterTarget) {
  Fixture f(BalancerKind::kEwma, {1, 1, 1});
  int64_t now = 1'000;
  const std::vector<int64_t> lat = {100'000, 10'000, 50'000};
  run_ewma(f, lat, 100, &now);  // warm up: every target gets seen
  auto c = run_ewma(f, lat, 6'000, &now);
  std::printf("[ ewma  ] picks 100ms/10ms/50ms: %d/%d/%d\n", c[0], c[1], c[2]);
  // P2C: the fastest wins both pairs it is in (2/3), the middle one wins
  // against the slowest (1/3), the slowest never wins.
  EXPECT_NEAR(c[1], 4'000, 200);
  EXPECT_NEAR(c[2], 2'000, 200);
  EXPECT_LT(c[0], 30);

  Fixture two(BalancerKind::kEwma, {1, 1});
  run_ewma(two, {100'000, 10'000}, 100, &now);
  auto c2 = run_ewma(two, {100'000, 10'000}, 5'000, &now);
  EXPECT_GT(c2[1], 4'950);
}

TEST(BalancerEwma, LoadStillSpreadsBetweenFastAndSlow) {
  Fixture f(BalancerKind::kEwma, {1, 1});
  int64_t now = 1'000;
  f.pick(now);
  f.lb->on_start(0);
  f.lb->on_finish(0, microseconds(20'000), true);
  f.lb->on_start(1);
  f.lb->on_finish(1, microseconds(10'000), true);
  // 10 ms with 2 in flight (30) loses to 20 ms with none (20).
  f.lb->on_start(1);
  f.lb->on_start(1);
  EXPECT_EQ(f.pick(now), 0);
  f.lb->on_finish(1, microseconds(10'000), true);
  f.lb->on_finish(1, microseconds(10'000), true);
  EXPECT_EQ(f.pick(now), 1);  // 10 ms idle beats 20 ms idle
}

TEST(BalancerEwma, UnseenTargetGetsTraffic) {
  Fixture f(BalancerKind::kEwma, {1, 1, 1});
  int64_t now = 1'000;
  std::vector<int64_t> lat = {10'000, 10'000, 10'000};
  // Teach the balancer about targets 0 and 1 only, with target 2 excluded.
  std::vector<bool> ex = {false, false, true};
  for (int i = 0; i < 200; ++i, ++now) {
    int t = f.pick(now, {}, &ex);
    f.lb->on_start(t);
    f.lb->on_finish(t, microseconds(lat[t]), true);
  }
  auto c = run_ewma(f, lat, 30, &now);
  EXPECT_GT(c[2], 0);
}

TEST(BalancerEwma, FailuresPenalise) {
  Fixture f(BalancerKind::kEwma, {1, 1});
  int64_t now = 1'000;
  // Target 0 fails fast (1 ms, connection refused); target 1 succeeds in 20 ms.
  auto c = run_ewma(f, {1'000, 20'000}, 2'000, &now, {true, false});
  std::printf("[ ewma  ] fast-failing/healthy picks: %d/%d\n", c[0], c[1]);
  EXPECT_LT(c[0], 100);
}

TEST(BalancerEwma, SlowTargetIsProbedAgainAfterItsCostDecays) {
  Fixture f(BalancerKind::kEwma, {1, 1});
  int64_t now = 1'000;
  run_ewma(f, {200'000, 10'000}, 100, &now);
  // Nothing for a minute: stale costs drift back to neutral, so the slow
  // target is tried again instead of being starved forever.
  now += 60'000;
  auto c = run_ewma(f, {10'000, 10'000}, 100, &now);
  EXPECT_GT(c[0], 0);
}

}  // namespace
}  // namespace gatehouse::proxy
