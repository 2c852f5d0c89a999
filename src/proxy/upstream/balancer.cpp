// Load balancers: smooth weighted round robin, least request (P2C), consistent
// hash (ketama ring) and peak EWMA (P2C). Decisions are in README.md here.
#include "proxy/upstream/balancer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/strings.hpp"

namespace gatehouse::proxy {

namespace {

// A weight of 1000 at 160 vnodes would cost 160,000 points (2.5 MB) per
// worker for one target; past this cap weights saturate, which keeps ratios
// exact up to ~100:1 and memory bounded.
constexpr uint64_t kMaxPointsPerTarget = 16'384;

// splitmix64: one add and three multiply-xorshifts per draw, good enough
// statistically for P2C and seedable per worker so workers do not move in
// lockstep.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) without a division (Lemire); the bias is < n / 2^64.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  uint64_t s_;
};

// The view of the targets every balancer shares: static weights plus the
// node-wide health atomics.
class Targets {
 public:
  Targets(const std::vector<config::TargetConfig>& targets,
          const std::vector<std::shared_ptr<TargetState>>& states)
      : states_(states) {
    weights_.reserve(targets.size());
    for (const auto& t : targets) weights_.push_back(t.weight);
    // A missing state reads as healthy: better than refusing to route.
    states_.resize(weights_.size());
  }

  int size() const { return static_cast<int>(weights_.size()); }
  uint32_t weight(int i) const { return weights_[i]; }

  // Weight 0 (drained) and already-tried targets are never picked, not even
  // in panic mode: draining must drain and a retry must go somewhere new.
  bool eligible(int i, const PickContext& ctx) const {
    if (weights_[i] == 0) return false;
    return !(ctx.exclude && ctx.exclude->contains(static_cast<size_t>(i)));
  }
  bool healthy(int i, int64_t now_ms) const {
    const auto& s = states_[i];
    return !s || s->available(now_ms);
  }

  // Fills `out` with the eligible healthy targets, or, when there are none,
  // with every eligible target (panic mode, see README.md).
  void collect(const PickContext& ctx, std::vector<int>& out) const {
    out.clear();
    for (int i = 0; i < size(); ++i)
      if (eligible(i, ctx) && healthy(i, ctx.now_ms)) out.push_back(i);
    if (!out.empty()) return;
    for (int i = 0; i < size(); ++i)
      if (eligible(i, ctx)) out.push_back(i);
  }

 private:
  std::vector<uint32_t> weights_;
  std::vector<std::shared_ptr<TargetState>> states_;  // kept alive with the balancer
};

// nginx's smooth weighted round robin: every pick adds each candidate's weight
// to its current weight, takes the largest and subtracts the total from it.
// Picks interleave (a a b a c a a for 5:1:1) instead of bursting (a a a a a b c).
class RoundRobinBalancer final : public Balancer {
 public:
  RoundRobinBalancer(const std::vector<config::TargetConfig>& targets,
                     const std::vector<std::shared_ptr<TargetState>>& states)
      : targets_(targets, states), current_(targets.size(), 0) {}

  int pick(const PickContext& ctx) override {
    int best = pick_among(ctx, /*need_healthy=*/true);
    if (best < 0) best = pick_among(ctx, /*need_healthy=*/false);  // panic mode
    return best;
  }

 private:
  int pick_among(const PickContext& ctx, bool need_healthy) {
    int best = -1;
    int64_t total = 0;
    for (int i = 0; i < targets_.size(); ++i) {
      if (!targets_.eligible(i, ctx)) continue;
      if (need_healthy && !targets_.healthy(i, ctx.now_ms)) continue;
      // Skipped targets keep their current weight, as in nginx, so a target
      // coming back resumes its place instead of getting a burst.
      int64_t w = targets_.weight(i);
      current_[i] += w;
      total += w;
      if (best < 0 || current_[i] > current_[best]) best = i;
    }
    if (best >= 0) current_[best] -= total;
    return best;
  }

  Targets targets_;
  std::vector<int64_t> current_;
};

// Draws two distinct candidates with probability proportional to weight.
// Returns false when `cands` holds fewer than two targets.
bool draw_two(const Targets& targets, const std::vector<int>& cands, SplitMix64& rng, int& a,
              int& b) {
  if (cands.size() < 2) return false;
  uint64_t total = 0;
  for (int i : cands) total += targets.weight(i);
  uint64_t r = rng.below(total);
  size_t ia = 0;
  for (; ia + 1 < cands.size(); ++ia) {
    uint64_t w = targets.weight(cands[ia]);
    if (r < w) break;
    r -= w;
  }
  // The second draw excludes the first's weight so the pair is always two
  // different targets: with two targets P2C then always compares both.
  r = rng.below(total - targets.weight(cands[ia]));
  size_t ib = 0;
  for (; ib < cands.size(); ++ib) {
    if (ib == ia) continue;
    uint64_t w = targets.weight(cands[ib]);
    if (r < w) break;
    r -= w;
  }
  if (ib == cands.size()) ib = (ia == cands.size() - 1) ? cands.size() - 2 : cands.size() - 1;
  a = cands[ia];
  b = cands[ib];
  return true;
}

// Power of two choices on outstanding/weight (Envoy, Mitzenmacher): nearly as
// good as scanning for the least-loaded target, and avoids the herd where
// every worker sends to the same momentarily idle target.
class LeastRequestBalancer final : public Balancer {
 public:
  LeastRequestBalancer(const std::vector<config::TargetConfig>& targets,
                       const std::vector<std::shared_ptr<TargetState>>& states, uint64_t seed)
      : targets_(targets, states), outstanding_(targets.size(), 0), rng_(seed) {}

  int pick(const PickContext& ctx) override {
    targets_.collect(ctx, cands_);
    if (cands_.empty()) return -1;
    int a = 0, b = 0;
    if (!draw_two(targets_, cands_, rng_, a, b)) return cands_[0];
    // outstanding_a / w_a vs outstanding_b / w_b without division. Ties go to
    // `a`, which was drawn by weight, so an idle upstream splits by weight.
    uint64_t la = static_cast<uint64_t>(outstanding_[a]) * targets_.weight(b);
    uint64_t lb = static_cast<uint64_t>(outstanding_[b]) * targets_.weight(a);
    return lb < la ? b : a;
  }

  void on_start(int target) override {
    if (in_range(target)) ++outstanding_[target];
  }
  void on_finish(int target, std::chrono::microseconds, bool) override {
    if (in_range(target) && outstanding_[target] > 0) --outstanding_[target];
  }

 private:
  bool in_range(int i) const { return i >= 0 && i < targets_.size(); }

  Targets targets_;
  std::vector<int> outstanding_;  // this worker only: no atomics needed
  std::vector<int> cands_;        // scratch, reused to avoid allocating per pick
  SplitMix64 rng_;
};

// Peak EWMA (Finagle, linkerd): a latency above the average replaces it at
// once, a lower one pulls it down with a 10 s time constant, so a target that
// slows down loses traffic immediately and regains it gradually.
class EwmaBalancer final : public Balancer {
 public:
  EwmaBalancer(const std::vector<config::TargetConfig>& targets,
               const std::vector<std::shared_ptr<TargetState>>& states, uint64_t seed)
      : targets_(targets, states),
        stats_(targets.size()),
        outstanding_(targets.size(), 0),
        rng_(seed) {}

  int pick(const PickContext& ctx) override {
    // on_finish has no clock; it uses the time of the latest pick, which is
    // at most one request old and keeps the balancer free of clock calls.
    last_now_ms_ = std::max(last_now_ms_, ctx.now_ms);
    targets_.collect(ctx, cands_);
    if (cands_.empty()) return -1;
    int a = 0, b = 0;
    if (!draw_two(targets_, cands_, rng_, a, b)) return cands_[0];
    return score(b, ctx.now_ms) < score(a, ctx.now_ms) ? b : a;
  }

  void on_start(int target) override {
    if (in_range(target)) ++outstanding_[target];
  }

  void on_finish(int target, std::chrono::microseconds latency, bool ok) override {
    if (!in_range(target)) return;
    if (outstanding_[target] > 0) --outstanding_[target];
    // A zero latency would make the score ignore outstanding requests.
    double rtt = std::max(static_cast<double>(latency.count()), kMinCostUs);
    Stat& s = stats_[target];
    if (!ok) {
      // A fast failure (connection refused) must not look like a fast
      // target: it counts as several typical latencies, and never lowers the
      // cost. The multiple is of the upstream's baseline, not of this
      // target's cost, so repeated failures do not compound without bound.
      double typical = have_baseline_ ? baseline_us_ : kInitialCostUs;
      rtt = std::max({rtt, typical * kFailurePenalty, cost(target, last_now_ms_)});
      rtt = std::min(rtt, kMaxCostUs);
    } else {
      baseline_us_ = have_baseline_ ? baseline_us_ + (rtt - baseline_us_) * kBaselineAlpha : rtt;
      have_baseline_ = true;
    }
    if (!s.seen || rtt > s.cost_us) {
      s.cost_us = rtt;
    } else {
      double w = decay(last_now_ms_ - s.stamp_ms);
      s.cost_us = s.cost_us * w + rtt * (1.0 - w);
    }
    s.seen = true;
    s.stamp_ms = std::max(s.stamp_ms, last_now_ms_);
  }

 private:
  // 10 s, as Finagle's default: long enough to smooth bursts, short enough
  // to notice a target recovering within a scrape interval.
  static constexpr double kTauMs = 10'000.0;
  static constexpr double kMinCostUs = 1.0;
  static constexpr double kMaxCostUs = 3'600.0 * 1e6;
  static constexpr double kFailurePenalty = 5.0;
  static constexpr double kBaselineAlpha = 0.05;
  static constexpr double kInitialCostUs = 1'000.0;  // only compared among unseen targets
  static constexpr double kUnseenFactor = 0.5;

  struct Stat {
    double cost_us = 0;
    int64_t stamp_ms = 0;
    bool seen = false;
  };

  bool in_range(int i) const { return i >= 0 && i < targets_.size(); }
  static double decay(int64_t dt_ms) {
    return dt_ms <= 0 ? 1.0 : std::exp(-static_cast<double>(dt_ms) / kTauMs);
  }
  // What we assume without information: half the upstream's typical latency,
  // so new targets get traffic (and the outstanding factor stops a flood).
  double neutral() const {
    return (have_baseline_ ? baseline_us_ : kInitialCostUs) * kUnseenFactor;
  }
  // Information goes stale: without fresh samples the cost drifts back to
  // neutral, so a target that was slow once is probed again later, and one
  // that was fast long ago is not flooded on faith.
  double cost(int i, int64_t now_ms) const {
    const Stat& s = stats_[i];
    double n = neutral();
    if (!s.seen) return n;
    double w = decay(now_ms - s.stamp_ms);
    return s.cost_us * w + n * (1.0 - w);
  }
  double score(int i, int64_t now_ms) const {
    return cost(i, now_ms) * (outstanding_[i] + 1) / targets_.weight(i);
  }

  Targets targets_;
  std::vector<Stat> stats_;
  std::vector<int> outstanding_;
  std::vector<int> cands_;
  SplitMix64 rng_;
  double baseline_us_ = 0;
  bool have_baseline_ = false;
  int64_t last_now_ms_ = 0;
};

}  // namespace

// Named (not in the anonymous namespace) because HashRing befriends it.
class ConsistentHashBalancer final : public Balancer {
 public:
  ConsistentHashBalancer(const std::vector<config::TargetConfig>& targets,
                         const std::vector<std::shared_ptr<TargetState>>& states)
      : targets_(targets, states), ring_(targets), fallback_(targets, states) {}

  int pick(const PickContext& ctx) override {
    // No key (no cookie, no header): affinity is impossible, so spread
    // instead of sending every keyless request to one point of the ring.
    if (ctx.hash_key.empty()) return fallback_.pick(ctx);
    int i = ring_.lookup(ctx.hash_key, [&](int t) {
      return targets_.eligible(t, ctx) && targets_.healthy(t, ctx.now_ms);
    });
    if (i >= 0) return i;
    return ring_.lookup(ctx.hash_key, [&](int t) { return targets_.eligible(t, ctx); });
  }

 private:
  Targets targets_;
  HashRing ring_;
  RoundRobinBalancer fallback_;
};

HashRing::HashRing(const std::vector<config::TargetConfig>& targets, int vnodes_per_weight) {
  uint64_t per_weight = static_cast<uint64_t>(std::max(vnodes_per_weight, 1));
  size_t total = 0;
  for (const auto& t : targets)
    total += std::min<uint64_t>(per_weight * t.weight, kMaxPointsPerTarget);
  ring_.reserve(total);
  std::string buf;
  for (size_t idx = 0; idx < targets.size(); ++idx) {
    const auto& t = targets[idx];
    // Points hash the address, not the index, so a target keeps its points
    // when others are added or removed around it: that is what limits
    // remapping to about 1/N of the keys.
    uint64_t points = std::min<uint64_t>(per_weight * t.weight, kMaxPointsPerTarget);
    buf.assign(t.address);
    buf.push_back('#');
    size_t base = buf.size();
    char num[24];
    for (uint64_t p = 0; p < points; ++p) {
      auto [end, ec] = std::to_chars(num, num + sizeof num, p);
      (void)ec;
      buf.resize(base);
      buf.append(num, end);
      ring_.emplace_back(stable_hash(buf), static_cast<int>(idx));
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

size_t HashRing::start_index(std::string_view key) const {
  uint64_t h = stable_hash(key);
  auto it =
      std::lower_bound(ring_.begin(), ring_.end(), h,
                       [](const std::pair<uint64_t, int>& p, uint64_t v) { return p.first < v; });
  return it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
}

int HashRing::first(std::string_view key) const {
  return lookup(key, [](int) { return true; });
}

std::unique_ptr<Balancer> make_balancer(const config::BalancerConfig& cfg,
                                        const std::vector<config::TargetConfig>& targets,
                                        const std::vector<std::shared_ptr<TargetState>>& states,
                                        uint64_t seed) {
  switch (cfg.kind) {
    case config::BalancerKind::kRoundRobin:
      return std::make_unique<RoundRobinBalancer>(targets, states);
    case config::BalancerKind::kLeastRequest:
      return std::make_unique<LeastRequestBalancer>(targets, states, seed);
    case config::BalancerKind::kConsistentHash:
      return std::make_unique<ConsistentHashBalancer>(targets, states);
    case config::BalancerKind::kEwma:
      return std::make_unique<EwmaBalancer>(targets, states, seed);
  }
  return std::make_unique<RoundRobinBalancer>(targets, states);
}

}  // namespace gatehouse::proxy
