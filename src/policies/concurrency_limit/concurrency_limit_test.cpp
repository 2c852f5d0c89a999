#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "policies/concurrency_limit/in_flight.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_concurrency_limit(Registry& r);

namespace {

using concurrency_limit::InFlight;

// ------------------------------------------------------------------ InFlight

TEST(InFlight, AcquireUpToMaxThenRelease) {
  InFlight f;
  for (std::string_view key : {std::string_view(), std::string_view("c:alice")}) {
    EXPECT_TRUE(f.acquire(key, 2));
    EXPECT_TRUE(f.acquire(key, 2));
    EXPECT_FALSE(f.acquire(key, 2));
    EXPECT_EQ(f.count(key), 2);
    f.release(key);
    EXPECT_TRUE(f.acquire(key, 2));
    f.release(key);
    f.release(key);
    EXPECT_EQ(f.count(key), 0);
  }
  EXPECT_EQ(f.keys(), 0u);  // keyed entries go when their last request ends
  f.release("c:nobody");    // never acquired: no effect
  EXPECT_EQ(f.count("c:nobody"), 0);
}

TEST(InFlight, NeverAboveMaxAcrossThreads) {
  for (std::string_view key : {std::string_view(), std::string_view("r:orders")}) {
    InFlight f;
    std::atomic<int64_t> inside{0}, peak{0}, admitted{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&] {
        for (int i = 0; i < 20000; ++i) {
          if (!f.acquire(key, 3)) continue;
          ++admitted;
          int64_t now = ++inside;
          int64_t p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          --inside;
          f.release(key);
        }
      });
    }
    for (auto& t : ts) t.join();
    EXPECT_LE(peak.load(), 3);
    EXPECT_GT(admitted.load(), 0);
    EXPECT_EQ(f.count(key), 0);
  }
}

TEST(InFlight, ExactlyMaxHeldAcrossThreads) {
  InFlight f;
  std::atomic<int> got{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) got += f.acquire("i:10.0.0.1", 37);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(got.load(), 37);
  EXPECT_EQ(f.count("i:10.0.0.1"), 37);
}

// -------------------------------------------------------------------- policy

struct Env {
  config::Config cfg;
  Env() {
    register_concurrency_limit(Registry::instance());
    for (const char* n : {"orders", "users"}) {
      config::RouteConfig r;
      r.name = n;
      cfg.routes.push_back(r);
    }
  }
};

Env& env() {
  static Env e;
  return e;
}

Result<std::shared_ptr<const Policy>> build(const std::string& yaml,
                                            const std::string& field = "routes[0].policies[0]") {
  config::PolicyRef ref;
  ref.name = "concurrency-limit";
  ref.config_yaml = yaml;
  BuildContext bc;
  bc.config = &env().cfg;
  bc.field = field;
  return compile(ref, bc);
}

std::shared_ptr<const Policy> must(const std::string& yaml, const std::string& field) {
  auto p = build(yaml, field);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  return p.ok() ? p.value() : nullptr;
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  std::string ip, route;
  explicit Req(std::string client = "198.51.100.1", std::string route_name = "orders")
      : ip(std::move(client)), route(std::move(route_name)) {
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = ip;
    ctx.route_name = route;
  }
};

const Consumer kAlice{"alice", {}, 0};

TEST(ConcurrencyLimitPolicy, RejectsOverMaxAndReleasesOnLog) {
  auto p = must("{max: 2}", "routes[0].policies[1]");
  EXPECT_EQ(p->name(), "concurrency-limit");
  EXPECT_EQ(p->phase(), Phase::kLimit);
  Req a, b, c;
  Respond out;
  ASSERT_EQ(p->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(p->on_request(b.ctx, out), Action::kContinue);
  ASSERT_EQ(p->on_request(c.ctx, out), Action::kRespond);
  EXPECT_EQ(out.status, 429);
  EXPECT_EQ(out.code, "too_many_concurrent_requests");
  EXPECT_EQ(out.detail, "more than 2 requests in flight on this route");
  // The chain calls on_log for the rejecting policy too: it has nothing to
  // give back.
  p->on_log(c.ctx, 429);
  Req d;
  Respond out2;
  ASSERT_EQ(p->on_request(d.ctx, out2), Action::kRespond);
  p->on_log(d.ctx, 429);
  // One ends (twice, by mistake): exactly one slot comes back.
  p->on_log(a.ctx, 200);
  p->on_log(a.ctx, 200);
  Req e, f;
  ASSERT_EQ(p->on_request(e.ctx, out2), Action::kContinue);
  ASSERT_EQ(p->on_request(f.ctx, out2), Action::kRespond);
  p->on_log(f.ctx, 429);
  p->on_log(b.ctx, 200);
  p->on_log(e.ctx, 200);
}

TEST(ConcurrencyLimitPolicy, Status503) {
  auto p = must("{max: 1, status: 503}", "routes[0].policies[2]");
  Req a, b;
  Respond out;
  ASSERT_EQ(p->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(p->on_request(b.ctx, out), Action::kRespond);
  EXPECT_EQ(out.status, 503);
  EXPECT_EQ(out.code, "too_many_concurrent_requests");
  p->on_log(a.ctx, 200);
  p->on_log(b.ctx, 503);
}

TEST(ConcurrencyLimitPolicy, ByConsumerAndIp) {
  auto p = must("{max: 1, by: consumer}", "routes[0].policies[3]");
  Req alice1, alice2, anon_a, anon_b("203.0.113.9");
  alice1.ctx.consumer = alice2.ctx.consumer = &kAlice;
  alice1.ctx.credential_id = alice2.ctx.credential_id = "key-auth:alice";
  Respond out;
  EXPECT_EQ(p->on_request(alice1.ctx, out), Action::kContinue);
  EXPECT_EQ(p->on_request(alice2.ctx, out), Action::kRespond);
  EXPECT_EQ(out.detail, "more than 1 requests in flight for this consumer");
  EXPECT_EQ(p->on_request(anon_a.ctx, out), Action::kContinue);  // per IP when anonymous
  EXPECT_EQ(p->on_request(anon_b.ctx, out), Action::kContinue);
  for (Req* r : {&alice1, &alice2, &anon_a, &anon_b}) p->on_log(r->ctx, 200);
  Req again;
  again.ctx.consumer = &kAlice;
  again.ctx.credential_id = "key-auth:alice";
  EXPECT_EQ(p->on_request(again.ctx, out), Action::kContinue);
  p->on_log(again.ctx, 200);
}

TEST(ConcurrencyLimitPolicy, GlobalPolicyCountsEachRouteApart) {
  auto p = must("{max: 1, by: route}", "policies[0]");
  Req o1, o2, u1("198.51.100.1", "users");
  Respond out;
  EXPECT_EQ(p->on_request(o1.ctx, out), Action::kContinue);
  EXPECT_EQ(p->on_request(o2.ctx, out), Action::kRespond);
  EXPECT_EQ(p->on_request(u1.ctx, out), Action::kContinue);
  for (Req* r : {&o1, &o2, &u1}) p->on_log(r->ctx, 200);
}

TEST(ConcurrencyLimitPolicy, TwoLimitsOnOneRequestKeepTheirOwnSlots) {
  auto global = must("{max: 5, by: ip}", "policies[1]");
  auto route = must("{max: 1}", "routes[1].policies[0]");
  Req a("198.51.100.1", "users"), b("198.51.100.1", "users");
  Respond out;
  ASSERT_EQ(global->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(route->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(global->on_request(b.ctx, out), Action::kContinue);
  ASSERT_EQ(route->on_request(b.ctx, out), Action::kRespond);
  for (Req* r : {&a, &b}) {
    global->on_log(r->ctx, 200);
    route->on_log(r->ctx, 200);
  }
  Req c("198.51.100.1", "users");
  ASSERT_EQ(route->on_request(c.ctx, out), Action::kContinue);
  route->on_log(c.ctx, 200);
}

TEST(ConcurrencyLimitPolicy, InFlightRequestsSurviveAReload) {
  auto old_policy = must("{max: 2}", "routes[1].policies[5]");
  Req a("198.51.100.1", "users"), b("198.51.100.1", "users");
  Respond out;
  ASSERT_EQ(old_policy->on_request(a.ctx, out), Action::kContinue);
  ASSERT_EQ(old_policy->on_request(b.ctx, out), Action::kContinue);
  // Reloaded with a higher max: the two in flight still count.
  auto raised = must("{max: 3, by: route}", "routes[1].policies[5]");
  Req c("198.51.100.1", "users"), d("198.51.100.1", "users");
  EXPECT_EQ(raised->on_request(c.ctx, out), Action::kContinue);
  EXPECT_EQ(raised->on_request(d.ctx, out), Action::kRespond);
  // Requests that started on the old snapshot end there, and free the slot
  // for the new one.
  old_policy->on_log(a.ctx, 200);
  Req e("198.51.100.1", "users");
  EXPECT_EQ(raised->on_request(e.ctx, out), Action::kContinue);
  // Another key kind is another table.
  auto by_ip = must("{max: 1, by: ip}", "routes[1].policies[5]");
  Req f("198.51.100.1", "users");
  EXPECT_EQ(by_ip->on_request(f.ctx, out), Action::kContinue);
  for (Req* r : {&b, &c, &d, &e}) raised->on_log(r->ctx, 200);
  by_ip->on_log(f.ctx, 200);
}

TEST(ConcurrencyLimitPolicy, ManyThreadsThroughThePolicy) {
  auto p = must("{max: 4}", "routes[0].policies[6]");
  std::atomic<int64_t> inside{0}, peak{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        Req r;
        Respond out;
        bool ok = p->on_request(r.ctx, out) == Action::kContinue;
        if (ok) {
          int64_t now = ++inside;
          int64_t pk = peak.load();
          while (now > pk && !peak.compare_exchange_weak(pk, now)) {
          }
          --inside;
        }
        p->on_log(r.ctx, ok ? 200 : 429);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_LE(peak.load(), 4);
  // Everything was given back: four fit again.
  std::vector<std::unique_ptr<Req>> held;
  Respond out;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Req>());
    EXPECT_EQ(p->on_request(held.back()->ctx, out), Action::kContinue);
  }
  for (auto& r : held) p->on_log(r->ctx, 200);
}

TEST(ConcurrencyLimitPolicy, ConfigErrors) {
  struct Case {
    const char* yaml;
    const char* field;
    const char* code;
  };
  for (const Case& c :
       {Case{"{}", "max", "missing_field"}, Case{"{max: 0}", "max", "invalid_value"},
        Case{"{max: lots}", "max", "invalid_type"},
        Case{"{max: 5, by: header}", "by", "invalid_value"},
        Case{"{max: 5, status: 500}", "status", "invalid_value"},
        Case{"{max: 5, status: 430}", "status", "invalid_value"},
        Case{"{max: 5, limit: 3}", "limit", "unknown_field"}}) {
    auto p = build(c.yaml, "routes[0].policies[9]");
    ASSERT_FALSE(p.ok()) << c.yaml;
    EXPECT_EQ(p.error().field, std::string("routes[0].policies[9].config.") + c.field) << c.yaml;
    EXPECT_EQ(p.error().code, c.code) << c.yaml;
  }
}

}  // namespace
}  // namespace gatehouse::policy
