// The cluster store without a real Redis: the merge arithmetic driven with
// made-up times against an in-memory fake, nodes simulated side by side, key
// naming, config errors, and the policy's 503 when the store is down.
#include "policies/rate_limit/redis_store.hpp"

#include <gtest/gtest.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/strings.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_rate_limit(Registry& r);
}

namespace gatehouse::policy::rate_limit {
namespace {

using State = ClusterCounter::StoreState;

// Redis as far as the store uses it: INCRBY (+PEXPIRE) and GET.
struct FakeRedis {
  std::mutex mu;
  std::map<std::string, int64_t> values;
  std::map<std::string, int64_t> ttls;
  std::atomic<bool> down{false};
  std::atomic<int> rounds{0};
  int64_t get(const std::string& k) {
    std::lock_guard lock(mu);
    auto it = values.find(k);
    return it == values.end() ? 0 : it->second;
  }
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(FakeRedis& r) : r_(r) {}
  bool exchange(const std::vector<SyncOp>& ops, std::vector<int64_t>& totals,
                std::string& error) override {
    ++r_.rounds;
    if (r_.down) {
      error = "Connection refused";
      return false;
    }
    std::lock_guard lock(r_.mu);
    totals.assign(ops.size(), 0);
    for (size_t i = 0; i < ops.size(); ++i) {
      int64_t& v = r_.values[ops[i].key];
      if (ops[i].delta > 0) {
        v += ops[i].delta;
        r_.ttls[ops[i].key] = ops[i].ttl_ms;
      }
      totals[i] = v;
    }
    return true;
  }

 private:
  FakeRedis& r_;
};

Limit sliding(int64_t requests, int64_t window_ms) {
  Limit l;
  l.requests = requests;
  l.window_ms = window_ms;
  return l;
}

constexpr const char* kPrefix = "gh:";
constexpr const char* kScope = "route:orders/policies[1]:1s";

// One gateway node: its counter and its connection to the shared fake.
struct Node {
  ClusterCounter counter;
  FakeTransport transport;
  SyncBatch last;  // the last round's ops, for tests that look at them
  Node(FakeRedis& r, const Limit& l, int64_t sync_ms = 100, bool fail_closed = false)
      : counter(l, kPrefix, kScope, sync_ms, 200, fail_closed), transport(r) {}

  bool sync(int64_t now) {
    last.clear();
    counter.collect(now, last);
    std::vector<int64_t> totals;
    std::string error;
    bool ok = transport.exchange(last.ops, totals, error);
    if (ok)
      counter.apply(last, 0, last.ops.size(), totals);
    else
      counter.fail(last, 0, last.ops.size());
    counter.set_store_state(ok ? State::kUp : State::kDown);
    return ok;
  }
  int admit(std::string_view key, int n, int64_t now) {
    int ok = 0;
    for (int i = 0; i < n; ++i) ok += counter.hit(key, now).allowed;
    return ok;
  }
};

std::string key_of(int64_t window, std::string_view limit_key = "c:alice") {
  return redis_key(kPrefix, kScope, limit_key, window);
}

// ---------------------------------------------------------------- key naming

TEST(RedisKey, PrefixScopeLimitKeyAndWindowIndex) {
  EXPECT_EQ(redis_key("gatehouse:rl:", "route:orders/policies[1]:60s", "c:alice", 28'901'234),
            "gatehouse:rl:route:orders/policies[1]:60s:c:alice:28901234");
  EXPECT_EQ(redis_key("", "policies[0]:1s", "g:", 7), "policies[0]:1s:g::7");
}

TEST(RedisKey, UnprintableBytesBlanksAndPercentAreEncoded) {
  std::string digest = std::string("k#") + '\x01' + '\xff';
  EXPECT_EQ(redis_key("p:", "route:my orders/policies[0]:1s", digest, 1),
            "p:route:my%20orders/policies[0]:1s:k#%01%FF:1");
  EXPECT_EQ(redis_key("p:", "s", "h:50%", 1), "p:s:h:50%25:1");
  // Distinct values never share a key.
  EXPECT_NE(redis_key("p:", "s", "h:a b", 1), redis_key("p:", "s", "h:a%20b", 1));
}

// ------------------------------------------------------------- merge logic

TEST(ClusterCounter, DecidesLocallyBetweenSyncs) {
  FakeRedis r;
  Node a(r, sliding(5, 1000));
  EXPECT_EQ(a.admit("c:alice", 8, 100), 5);  // no store round trip needed
  EXPECT_EQ(r.rounds, 0);
  auto s = a.counter.slot("c:alice", 0);
  EXPECT_EQ(s.pending, 5);
  EXPECT_EQ(s.known, 0);
}

TEST(ClusterCounter, SyncPushesAdmissionsAndReadsTotalsBack) {
  FakeRedis r;
  Node a(r, sliding(5, 1000));
  a.admit("c:alice", 3, 100);
  ASSERT_TRUE(a.sync(150));
  EXPECT_EQ(r.get(key_of(0)), 3);
  EXPECT_EQ(r.ttls[key_of(0)], 2000);  // read as "previous" through the next window
  auto s = a.counter.slot("c:alice", 0);
  EXPECT_EQ(s.known, 3);
  EXPECT_EQ(s.pending, 0);
  EXPECT_EQ(s.in_flight, 0);
  // Nothing new: the next round only reads, and counts nothing twice.
  a.admit("c:alice", 1, 200);
  ASSERT_TRUE(a.sync(250));
  ASSERT_TRUE(a.sync(350));
  EXPECT_EQ(r.get(key_of(0)), 4);
  EXPECT_EQ(a.counter.slot("c:alice", 0).known, 4);
}

TEST(ClusterCounter, IdleKeysCostNoRoundTrip) {
  FakeRedis r;
  Node a(r, sliding(5, 10'000));
  a.admit("c:alice", 1, 100);
  ASSERT_TRUE(a.sync(150));
  EXPECT_EQ(a.last.ops.size(), 2u);  // INCRBY, and GET of the previous window
  ASSERT_TRUE(a.sync(250));
  EXPECT_EQ(a.last.ops.size(), 2u);  // still warm: both read
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(a.sync(350 + 100 * i));
  EXPECT_EQ(a.last.ops.size(), 1u);  // the previous window is final by now
  ASSERT_TRUE(a.sync(1150));
  EXPECT_TRUE(a.last.ops.empty());  // ten rounds unused: nothing to push or read
}

TEST(ClusterCounter, TwoNodesShareOneLimit) {
  FakeRedis r;
  Node a(r, sliding(5, 1000));
  Node b(r, sliding(5, 1000));
  EXPECT_EQ(a.admit("c:alice", 3, 100), 3);
  EXPECT_EQ(b.admit("c:alice", 2, 110), 2);
  ASSERT_TRUE(a.sync(150));
  ASSERT_TRUE(b.sync(160));  // sees a's 3 plus its own 2
  EXPECT_EQ(b.admit("c:alice", 1, 170), 0);
  ASSERT_TRUE(a.sync(250));  // sees b's 2
  Decision d = a.counter.hit("c:alice", 260);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(r.get(key_of(0)), 5);
}

TEST(ClusterCounter, OtherKeysAndOtherScopesDoNotMix) {
  FakeRedis r;
  Node a(r, sliding(2, 1000));
  a.admit("c:alice", 2, 100);
  a.admit("c:bob", 1, 100);
  ASSERT_TRUE(a.sync(150));
  EXPECT_EQ(r.get(key_of(0, "c:alice")), 2);
  EXPECT_EQ(r.get(key_of(0, "c:bob")), 1);
  ClusterCounter other(sliding(2, 1000), kPrefix, "route:users/policies[1]:1s", 100, 200, false);
  EXPECT_TRUE(other.hit("c:alice", 160).allowed);
}

TEST(ClusterCounter, AdmissionsDuringARoundAreKept) {
  FakeRedis r;
  Node a(r, sliding(10, 1000));
  a.admit("c:alice", 2, 100);
  SyncBatch b;
  a.counter.collect(150, b);  // 2 in flight
  EXPECT_EQ(a.counter.slot("c:alice", 0).in_flight, 2);
  a.admit("c:alice", 3, 160);  // while the round is on the wire
  std::vector<int64_t> totals;
  std::string error;
  ASSERT_TRUE(a.transport.exchange(b.ops, totals, error));
  a.counter.apply(b, 0, b.ops.size(), totals);
  auto s = a.counter.slot("c:alice", 0);
  EXPECT_EQ(s.known, 2);
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.pending, 3);
  ASSERT_TRUE(a.sync(250));
  EXPECT_EQ(r.get(key_of(0)), 5);
}

TEST(ClusterCounter, AFailedRoundSendsItsAdmissionsAgain) {
  FakeRedis r;
  Node a(r, sliding(10, 1000));
  a.admit("c:alice", 4, 100);
  r.down = true;
  EXPECT_FALSE(a.sync(150));
  EXPECT_EQ(a.counter.slot("c:alice", 0).pending, 4);
  EXPECT_EQ(a.counter.store_state(), State::kDown);
  a.admit("c:alice", 1, 200);
  r.down = false;
  ASSERT_TRUE(a.sync(250));
  EXPECT_EQ(r.get(key_of(0)), 5);
  EXPECT_EQ(a.counter.slot("c:alice", 0).known, 5);
}

TEST(ClusterCounter, FailOpenLimitsOnThisNodesCounts) {
  FakeRedis r;
  Node a(r, sliding(5, 1000));
  r.down = true;
  EXPECT_FALSE(a.sync(50));
  Decision d = a.counter.hit("c:alice", 100);
  EXPECT_TRUE(d.allowed);
  EXPECT_FALSE(d.store_unavailable);
  EXPECT_EQ(a.admit("c:alice", 9, 110), 4);  // the full limit, on this node alone
}

TEST(ClusterCounter, FailClosedAnswersUnavailableAndCountsNothing) {
  FakeRedis r;
  Node a(r, sliding(5, 1000), 100, /*fail_closed=*/true);
  EXPECT_TRUE(a.counter.hit("c:alice", 10).allowed);  // state unknown: not an outage yet
  r.down = true;
  EXPECT_FALSE(a.sync(50));
  Decision d = a.counter.hit("c:alice", 100);
  EXPECT_FALSE(d.allowed);
  EXPECT_TRUE(d.store_unavailable);
  EXPECT_EQ(a.counter.slot("c:alice", 0).pending, 1);  // only the first one
  r.down = false;
  ASSERT_TRUE(a.sync(150));
  EXPECT_EQ(a.admit("c:alice", 9, 200), 4);
}

TEST(ClusterCounter, PreviousWindowWeighsWithTheClustersCount) {
  FakeRedis r;
  Node a(r, sliding(10, 1000));
  Node b(r, sliding(10, 1000));
  EXPECT_EQ(b.admit("c:alice", 10, 900), 10);
  ASSERT_TRUE(b.sync(950));
  // a first sees the key in window 1: its first request is decided on an
  // empty view, the next ones on b's 10 weighted by the share still inside.
  EXPECT_TRUE(a.counter.hit("c:alice", 1010).allowed);
  ASSERT_TRUE(a.sync(1020));
  EXPECT_EQ(a.counter.slot("c:alice", 0).known, 10);
  // 10 * 0.97 + 1 = 10.7 -> 10, not below 10.
  EXPECT_FALSE(a.counter.hit("c:alice", 1030).allowed);
  // 10 * 0.2 + 1 = 3 at 1800: admitted up to an estimate of 9.
  EXPECT_EQ(a.admit("c:alice", 10, 1800), 7);
}

TEST(ClusterCounter, LatePushesToThePreviousWindowAreReadUntilSettled) {
  FakeRedis r;
  Node a(r, sliding(100, 1000));
  Node b(r, sliding(100, 1000));
  a.admit("c:alice", 1, 900);
  ASSERT_TRUE(a.sync(950));
  b.admit("c:alice", 5, 990);  // pushed only after the window ended
  a.admit("c:alice", 1, 1010);
  ASSERT_TRUE(a.sync(1020));
  EXPECT_EQ(a.counter.slot("c:alice", 0).known, 1);
  ASSERT_TRUE(b.sync(1050));  // INCRBY into window 0's key, with its TTL
  EXPECT_EQ(r.get(key_of(0)), 6);
  a.admit("c:alice", 1, 1100);
  ASSERT_TRUE(a.sync(1120));
  EXPECT_EQ(a.counter.slot("c:alice", 0).known, 6);
  // Once a read was made after sync_interval + timeout (300 ms) into the
  // window, the previous count is final and no longer read.
  a.admit("c:alice", 1, 1310);
  ASSERT_TRUE(a.sync(1320));
  size_t reads = a.last.ops.size();
  a.admit("c:alice", 1, 1410);
  ASSERT_TRUE(a.sync(1420));
  EXPECT_EQ(reads, 2u);
  EXPECT_EQ(a.last.ops.size(), 1u);
  EXPECT_EQ(a.last.ops[0].key, key_of(1));
}

TEST(ClusterCounter, EntriesAreDroppedTwoWindowsAfterTheirLastUse) {
  FakeRedis r;
  Node a(r, sliding(5, 1000));
  a.admit("c:alice", 1, 100);
  a.admit("c:bob", 1, 1500);
  ASSERT_TRUE(a.sync(1600));
  EXPECT_EQ(a.counter.size(), 2u);
  ASSERT_TRUE(a.sync(2100));  // alice: two windows on
  EXPECT_EQ(a.counter.size(), 1u);
  ASSERT_TRUE(a.sync(3100));
  EXPECT_EQ(a.counter.size(), 0u);
}

// Nodes admitting at a steady rate, with their sync rounds out of phase: the
// total of a fixed window stays within the documented bound, requests +
// (N - 1) x r x 2 x sync_interval + r x sync_interval, r the rate per node.
TEST(ClusterCounter, OvershootStaysWithinTheDocumentedBound) {
  for (int nodes : {2, 3, 5}) {
    for (int64_t gap_ms : {1, 5, 20}) {
      FakeRedis r;
      const int64_t limit = 100, window = 60'000, sync = 100;
      std::vector<std::unique_ptr<Node>> ns;
      for (int i = 0; i < nodes; ++i)
        ns.push_back(std::make_unique<Node>(r, sliding(limit, window), sync));
      int64_t admitted = 0;
      for (int64_t t = 1; t < 20'000; ++t) {
        for (int i = 0; i < nodes; ++i) {
          if ((t + i * 7) % gap_ms == 0) admitted += ns[i]->counter.hit("g:", t).allowed;
          if ((t + i * 37) % sync == 0) {
            ASSERT_TRUE(ns[i]->sync(t));
          }
        }
      }
      const double rate = 1000.0 / static_cast<double>(gap_ms);  // per node per second
      const double bound = (nodes - 1) * rate * 2 * sync / 1000.0 + rate * sync / 1000.0 + 1;
      EXPECT_GE(admitted, limit) << nodes << " nodes, gap " << gap_ms;
      EXPECT_LE(admitted, limit + static_cast<int64_t>(bound)) << nodes << " nodes, gap " << gap_ms;
      EXPECT_LE(admitted, limit * nodes);
    }
  }
}

TEST(ClusterCounter, NothingIsLostAcrossThreadsAndRounds) {
  FakeRedis r;
  Node a(r, sliding(1'000'000, 60'000));
  std::atomic<bool> done{false};
  std::atomic<int64_t> admitted{0};
  std::thread syncer([&] {
    while (!done) a.sync(5000);
  });
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i)
        admitted += a.counter.hit(t % 2 ? "c:alice" : "c:bob", 5000).allowed;
    });
  for (auto& t : ts) t.join();
  done = true;
  syncer.join();
  ASSERT_TRUE(a.sync(5000));
  EXPECT_EQ(admitted.load(), 20'000);
  EXPECT_EQ(r.get(key_of(0, "c:alice")) + r.get(key_of(0, "c:bob")), 20'000);
}

// ------------------------------------------------------------------ policy

struct PolicyEnv {
  config::Config cfg;
  PolicyEnv() {
    register_rate_limit(Registry::instance());
    config::RouteConfig route;
    route.name = "orders";
    cfg.routes.push_back(route);
  }
};

Result<std::shared_ptr<const Policy>> build(const std::string& yaml) {
  static PolicyEnv env;
  config::PolicyRef ref;
  ref.name = "rate-limit";
  ref.config_yaml = yaml;
  ref.pos = {"gatehouse.yaml", 3, 5};
  BuildContext bc;
  bc.config = &env.cfg;
  bc.field = "routes[0].policies[1]";
  return compile(ref, bc);
}

void expect_error(const std::string& yaml, const std::string& field, const std::string& code,
                  const std::string& words) {
  auto p = build(yaml);
  ASSERT_FALSE(p.ok()) << yaml;
  EXPECT_EQ(p.error().field, field) << yaml << ": " << p.error().message;
  EXPECT_EQ(p.error().code, code) << yaml << ": " << p.error().message;
  EXPECT_NE(p.error().message.find(words), std::string::npos) << p.error().message;
}

TEST(RedisStoreConfig, Errors) {
  const std::string base = "{requests: 5, window: 1s, ";
  const std::string f = "routes[0].policies[1].config.";
  expect_error(base + "store: redis, algorithm: token-bucket}", f + "algorithm", "invalid_value",
               "sliding-window only");
  expect_error(base + "store: memcached}", f + "store", "invalid_value", "local, redis");
  expect_error(base + "redis: {host: a}}", f + "redis", "invalid_value",
               "only used with store: redis");
  expect_error(base + "sync_interval: 50ms}", f + "sync_interval", "invalid_value",
               "only used with store: redis");
  expect_error(base + "store: redis, redis: {hots: a}}", f + "redis.hots", "unknown_field",
               "unknown field 'hots'");
  expect_error(base + "store: redis, redis: 127.0.0.1}", f + "redis", "invalid_type", "mapping");
  expect_error(base + "store: redis, redis: {port: 0}}", f + "redis.port", "invalid_value",
               "between 1 and 65535");
  expect_error(base + "store: redis, redis: {port: x}}", f + "redis.port", "invalid_type",
               "integer");
  expect_error(base + "store: redis, redis: {host: ''}}", f + "redis.host", "invalid_value",
               "host name");
  expect_error(base + "store: redis, redis: {timeout: soon}}", f + "redis.timeout", "invalid_value",
               "not a duration");
  expect_error(base + "store: redis, redis: {database: -1}}", f + "redis.database", "invalid_value",
               "between");
  expect_error(base + "store: redis, redis: {password: [a]}}", f + "redis.password", "invalid_type",
               "string");
  expect_error(base + "store: redis, sync_interval: 600ms}", f + "sync_interval", "invalid_value",
               "half the window");
  expect_error(base + "store: redis, sync_interval: 1ms}", f + "sync_interval", "invalid_value",
               "at least 10ms");
  expect_error(base + "store: redis, on_store_error: maybe}", f + "on_store_error", "invalid_value",
               "open, closed");
}

TEST(RedisStoreConfig, AcceptsTheFullBlock) {
  auto p = build(
      "{requests: 100, window: 1m, by: consumer, store: redis, redis: {host: 10.0.0.5, port: "
      "6380, password: s3cret, database: 2, timeout: 150ms, prefix: 'acme:rl:'}, sync_interval: "
      "250ms, on_store_error: closed}");
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  EXPECT_TRUE(build("{requests: 1, window: 1s, store: redis}").ok());
  EXPECT_TRUE(build("{requests: 1, window: 1s, store: local}").ok());
}

// The endpoint thread outlives the test (endpoints live until exit), so the
// fake it talks to must too.
struct Outage {
  FakeRedis& redis = *new FakeRedis;
  Outage() {
#ifdef __SANITIZE_ADDRESS__
    __lsan_ignore_object(&redis);  // deliberately process-lifetime, see above
#endif
    set_transport_factory_for_tests(
        [r = &redis](const RedisEndpoint&) { return std::make_unique<FakeTransport>(*r); });
  }
  ~Outage() { set_transport_factory_for_tests(nullptr); }
};

TEST(RedisStorePolicy, ReloadsWithTheSameSettingsKeepTheStore) {
  Outage o;
  const std::string yaml =
      "{requests: 3, window: 1m, by: global, store: redis, redis: {port: 2}, sync_interval: 10ms}";
  auto first = build(yaml);
  ASSERT_TRUE(first.ok());
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &target;
  ctx.client_ip = "198.51.100.7";
  ctx.route_name = "orders";
  ctx.now_ms = steady_ms();
  Respond out;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(first.value()->on_request(ctx, out), Action::kContinue);
  auto second = build(yaml);  // a config reload: same attachment, same settings
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value()->on_request(ctx, out), Action::kRespond);
  EXPECT_EQ(out.status, 429);
  // Another store setting is another store (but the same keys in Redis).
  auto third = build(
      "{requests: 3, window: 1m, by: global, store: redis, redis: {port: 2}, sync_interval: "
      "20ms}");
  ASSERT_TRUE(third.ok());
  Respond fresh;
  EXPECT_EQ(third.value()->on_request(ctx, fresh), Action::kContinue);
}

Action run(const Policy& p, Respond& out, RequestContext& ctx) {
  ctx.response_headers.clear();
  out = Respond{};
  return p.on_request(ctx, out);
}

TEST(RedisStorePolicy, ClosedAnswers503WhenTheStoreIsDownAndOpenKeepsServing) {
  Outage o;
  o.redis.down = true;
  // Ports nobody else uses in this binary: a fresh endpoint with the fake.
  auto closed = build(
      "{requests: 5, window: 1s, store: redis, redis: {port: 1}, sync_interval: 10ms, "
      "on_store_error: closed}");
  auto open =
      build("{requests: 5, window: 1s, store: redis, redis: {port: 1}, sync_interval: 10ms}");
  ASSERT_TRUE(closed.ok() && open.ok());
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  ctx.head = &head;
  ctx.target = &target;
  ctx.client_ip = "198.51.100.7";
  ctx.route_name = "orders";
  Respond out;
  // The first request starts the sync thread; the outage is known one round later.
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    ctx.now_ms = steady_ms();
    refused = run(*closed.value(), out, ctx) == Action::kRespond;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(refused);
  EXPECT_EQ(out.status, 503);
  EXPECT_EQ(out.code, "rate_limit_store_unavailable");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].name, "Retry-After");
  EXPECT_EQ(out.headers[0].value, "1");
  EXPECT_TRUE(ctx.response_headers.empty());  // nothing known about the budget

  // Open: decided on this node's counts, so the limit still holds, with 429.
  int passed = 0;
  for (int i = 0; i < 8; ++i) {
    if (run(*open.value(), out, ctx) == Action::kContinue) {
      ++passed;
    } else {
      EXPECT_EQ(out.status, 429);
    }
  }
  EXPECT_GE(passed, 1);
  EXPECT_LE(passed, 5);

  // Back: the closed policy serves again.
  o.redis.down = false;
  bool served = false;
  for (int i = 0; i < 300 && !served; ++i) {
    ctx.now_ms += 1;
    served = run(*closed.value(), out, ctx) == Action::kContinue;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(served);
}

}  // namespace
}  // namespace gatehouse::policy::rate_limit
