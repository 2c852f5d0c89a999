// The rate-limit policy as the chain sees it: config, keys, headers, 429s,
// and counters that survive recompilation (config reloads).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "common/strings.hpp"
#include "policies/policy.hpp"

namespace gatehouse::policy {
void register_rate_limit(Registry& r);

namespace {

struct Env {
  config::Config cfg;
  Env() {
    register_rate_limit(Registry::instance());
    for (const char* n : {"orders", "users", "billing"}) {
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
                                            const std::string& field = "routes[0].policies[0]",
                                            const config::Config* cfg = nullptr) {
  config::PolicyRef ref;
  ref.name = "rate-limit";
  ref.config_yaml = yaml;
  ref.pos = {"gatehouse.yaml", 12, 7};
  BuildContext bc;
  bc.config = cfg ? cfg : &env().cfg;
  bc.field = field;
  return compile(ref, bc);
}

std::shared_ptr<const Policy> must(const std::string& yaml,
                                   const std::string& field = "routes[0].policies[0]",
                                   const config::Config* cfg = nullptr) {
  auto p = build(yaml, field, cfg);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
  return p.ok() ? p.value() : nullptr;
}

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;
  std::string ip;
  explicit Req(int64_t now = 1000, std::string client = "198.51.100.1") : ip(std::move(client)) {
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = ip;
    ctx.route_name = "orders";
    ctx.now_ms = now;
  }
  Req& as(const Consumer* c) {
    ctx.consumer = c;
    ctx.credential_id = c ? "key-auth:" + c->name : "";
    return *this;
  }
  const std::string* header(std::string_view name) const {
    for (const auto& h : ctx.response_headers)
      if (iequals(h.name, name)) return &h.value;
    return nullptr;
  }
  int count(std::string_view name) const {
    int n = 0;
    for (const auto& h : ctx.response_headers) n += iequals(h.name, name);
    return n;
  }
};

const Consumer kAlice{"alice", {}, 0};
const Consumer kBob{"bob", {}, 1};

// Runs one request through the policy; true when it may continue.
bool pass(const Policy& p, Req& r, Respond* out = nullptr) {
  Respond tmp;
  bool ok = p.on_request(r.ctx, out ? *out : tmp) == Action::kContinue;
  p.on_log(r.ctx, ok ? 200 : 429);
  return ok;
}

int passes(const Policy& p, int n, const Consumer* who, int64_t now,
           std::string ip = "198.51.100.1") {
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    Req r(now, ip);
    r.as(who);
    ok += pass(p, r);
  }
  return ok;
}

// ------------------------------------------------------------------- basics

TEST(RateLimitPolicy, AllowsExactlyTheLimitPerConsumer) {
  auto p = must("{requests: 5, window: 1s, by: consumer}", "routes[0].policies[10]");
  EXPECT_EQ(p->name(), "rate-limit");
  EXPECT_EQ(p->phase(), Phase::kLimit);
  EXPECT_EQ(passes(*p, 8, &kAlice, 1000), 5);
  EXPECT_EQ(passes(*p, 8, &kBob, 1000), 5);  // a budget of its own
  // Anonymous callers are counted per IP.
  EXPECT_EQ(passes(*p, 8, nullptr, 1000, "203.0.113.1"), 5);
  EXPECT_EQ(passes(*p, 8, nullptr, 1000, "203.0.113.2"), 5);
}

TEST(RateLimitPolicy, ExactAcrossThreads) {
  auto p = must("{requests: 500, window: 1h, by: route}", "routes[0].policies[11]");
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        Req r(5000, "10.0.0." + std::to_string(t));
        r.ctx.worker = static_cast<size_t>(t);
        ok += pass(*p, r);
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 500);
}

TEST(RateLimitPolicy, SuccessfulResponsesCarryRateLimitHeaders) {
  auto p = must("{requests: 5, window: 1s, by: consumer}", "routes[0].policies[12]");
  Req r(1000);
  r.as(&kAlice);
  ASSERT_TRUE(pass(*p, r));
  ASSERT_NE(r.header("RateLimit-Limit"), nullptr);
  EXPECT_EQ(*r.header("RateLimit-Limit"), "5");
  EXPECT_EQ(*r.header("RateLimit-Remaining"), "4");
  EXPECT_EQ(*r.header("RateLimit-Reset"), "1");
  EXPECT_EQ(*r.header("RateLimit-Policy"), "5;w=1");
  EXPECT_EQ(r.header("Retry-After"), nullptr);
}

TEST(RateLimitPolicy, RejectionIs429WithRetryAfter) {
  auto p = must("{requests: 2, window: 1m, by: ip}", "routes[0].policies[13]");
  Req a(60'000), b(60'000);
  ASSERT_TRUE(pass(*p, a));
  ASSERT_TRUE(pass(*p, b));
  Req c(60'000 + 30'000);
  Respond out;
  ASSERT_FALSE(pass(*p, c, &out));
  EXPECT_EQ(out.status, 429);
  EXPECT_EQ(out.code, "rate_limited");
  EXPECT_EQ(out.detail, "rate limit of 2 requests per 1m exceeded");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].name, "Retry-After");
  // The next window, 30 s away, admits one 1 ms in: 30.001 s, rounded up.
  EXPECT_EQ(out.headers[0].value, "31");
  EXPECT_EQ(*c.header("RateLimit-Remaining"), "0");
  EXPECT_EQ(*c.header("RateLimit-Reset"), "31");
  EXPECT_EQ(*c.header("RateLimit-Policy"), "2;w=60");
}

TEST(RateLimitPolicy, HeadersCanBeTurnedOff) {
  auto p = must("{requests: 1, window: 1s, by: global, headers: false}", "routes[0].policies[14]");
  Req a(0), b(0);
  ASSERT_TRUE(pass(*p, a));
  EXPECT_TRUE(a.ctx.response_headers.empty());
  Respond out;
  ASSERT_FALSE(pass(*p, b, &out));
  EXPECT_TRUE(b.ctx.response_headers.empty());
  ASSERT_EQ(out.headers.size(), 1u);  // Retry-After is plain HTTP, always sent
  EXPECT_EQ(out.headers[0].name, "Retry-After");
}

TEST(RateLimitPolicy, TheTightestOfSeveralLimitsIsReported) {
  auto wide = must("{requests: 100, window: 1m, by: global}", "policies[20]");
  auto tight = must("{requests: 3, window: 1s, by: consumer}", "routes[0].policies[15]");
  Req r(1000);
  r.as(&kAlice);
  Respond out;
  ASSERT_EQ(wide->on_request(r.ctx, out), Action::kContinue);
  ASSERT_EQ(tight->on_request(r.ctx, out), Action::kContinue);
  EXPECT_EQ(r.count("RateLimit-Limit"), 1);
  EXPECT_EQ(r.count("RateLimit-Policy"), 1);
  EXPECT_EQ(*r.header("RateLimit-Limit"), "3");
  EXPECT_EQ(*r.header("RateLimit-Remaining"), "2");
  // In the other order the tight one stays.
  Req s(1000);
  s.as(&kBob);
  ASSERT_EQ(tight->on_request(s.ctx, out), Action::kContinue);
  ASSERT_EQ(wide->on_request(s.ctx, out), Action::kContinue);
  EXPECT_EQ(s.count("RateLimit-Limit"), 1);
  EXPECT_EQ(*s.header("RateLimit-Limit"), "3");
}

TEST(RateLimitPolicy, TokenBucketHeaders) {
  auto p = must("{requests: 5, window: 1s, by: global, algorithm: token-bucket, burst: 10}",
                "routes[0].policies[16]");
  Req r(0);
  ASSERT_TRUE(pass(*p, r));
  EXPECT_EQ(*r.header("RateLimit-Limit"), "10");
  EXPECT_EQ(*r.header("RateLimit-Remaining"), "9");
  EXPECT_EQ(*r.header("RateLimit-Reset"), "1");  // 200 ms until full again
  EXPECT_EQ(*r.header("RateLimit-Policy"), "5;w=1;burst=10");
  EXPECT_EQ(passes(*p, 20, nullptr, 0), 9);
}

TEST(RateLimitPolicy, ByHeaderFallsBackToIp) {
  auto p = must("{requests: 1, window: 1s, by: header, header: X-User}", "routes[0].policies[17]");
  Req a(0), b(0), c(0), d(0);
  a.head.headers.push_back({"x-user", "u1"});
  b.head.headers.push_back({"X-USER", "u2"});
  EXPECT_TRUE(pass(*p, a));
  EXPECT_TRUE(pass(*p, b));
  EXPECT_TRUE(pass(*p, c));   // no header: its IP's budget
  EXPECT_FALSE(pass(*p, d));  // same IP
}

TEST(RateLimitPolicy, DaysWindow) {
  auto p = must("{requests: 2, window: 30d, by: consumer}", "routes[0].policies[18]");
  Req r(0);
  r.as(&kAlice);
  ASSERT_TRUE(pass(*p, r));
  EXPECT_EQ(*r.header("RateLimit-Policy"), "2;w=2592000");
  EXPECT_EQ(passes(*p, 3, &kAlice, 86'400'000), 1);
}

// ------------------------------------------------------------------- reload

TEST(RateLimitPolicy, SameConfigKeepsItsCountersAcrossRecompilation) {
  const std::string yaml = "{requests: 5, window: 1h, by: consumer}";
  auto first = must(yaml, "routes[1].policies[0]");
  EXPECT_EQ(passes(*first, 3, &kAlice, 1000), 3);
  // A reload builds a new policy while the old snapshot is still alive.
  auto second =
      must("{window: 3600s, by: consumer, requests: 5, headers: false}", "routes[1].policies[0]");
  EXPECT_NE(first.get(), second.get());
  EXPECT_EQ(passes(*second, 5, &kAlice, 1000), 2);
  // The old snapshot goes; the counters stay with the new one.
  first.reset();
  auto third = must(yaml, "routes[1].policies[0]");
  second.reset();
  EXPECT_EQ(passes(*third, 1, &kAlice, 1000), 0);
}

TEST(RateLimitPolicy, RoutesAreFoundByNameNotPosition) {
  auto before = must("{requests: 2, window: 1h, by: consumer}", "routes[2].policies[0]");
  EXPECT_EQ(passes(*before, 2, &kAlice, 0), 2);
  // A route inserted in front moves "billing" from routes[2] to routes[3].
  config::Config moved = env().cfg;
  config::RouteConfig extra;
  extra.name = "inserted";
  moved.routes.insert(moved.routes.begin(), extra);
  auto after = must("{requests: 2, window: 1h, by: consumer}", "routes[3].policies[0]", &moved);
  EXPECT_EQ(passes(*after, 1, &kAlice, 0), 0);
  // ...while the route now at routes[2] ("users") has counters of its own.
  auto users = must("{requests: 2, window: 1h, by: consumer}", "routes[2].policies[0]", &moved);
  EXPECT_EQ(passes(*users, 2, &kAlice, 0), 2);
}

TEST(RateLimitPolicy, ChangedConfigStartsAfresh) {
  auto a = must("{requests: 3, window: 1h, by: consumer}", "routes[0].policies[30]");
  EXPECT_EQ(passes(*a, 3, &kAlice, 0), 3);
  auto more = must("{requests: 4, window: 1h, by: consumer}", "routes[0].policies[30]");
  EXPECT_EQ(passes(*more, 5, &kAlice, 0), 4);
  auto by_ip = must("{requests: 3, window: 1h, by: ip}", "routes[0].policies[30]");
  EXPECT_EQ(passes(*by_ip, 5, &kAlice, 0), 3);
  auto bucket = must("{requests: 3, window: 1h, by: consumer, algorithm: token-bucket}",
                     "routes[0].policies[30]");
  EXPECT_EQ(passes(*bucket, 5, &kAlice, 0), 3);
  // Another position on the same route is another policy.
  auto other = must("{requests: 3, window: 1h, by: consumer}", "routes[0].policies[31]");
  EXPECT_EQ(passes(*other, 5, &kAlice, 0), 3);
  // And the first one still has its own counts.
  EXPECT_EQ(passes(*a, 1, &kAlice, 0), 0);
}

// ------------------------------------------------------------ config errors

void expect_error(const std::string& yaml, const std::string& field, const std::string& code,
                  const std::string& message_part = {}) {
  auto p = build(yaml, "routes[0].policies[2]");
  ASSERT_FALSE(p.ok()) << yaml;
  EXPECT_EQ(p.error().field, "routes[0].policies[2].config." + field) << yaml;
  EXPECT_EQ(p.error().code, code) << yaml;
  EXPECT_EQ(p.error().file, "gatehouse.yaml");
  EXPECT_EQ(p.error().line, 12);
  if (!message_part.empty()) {
    EXPECT_NE(p.error().message.find(message_part), std::string::npos) << p.error().message;
  }
}

TEST(RateLimitPolicy, ConfigErrors) {
  expect_error("{window: 1s}", "requests", "missing_field");
  expect_error("{requests: 5}", "window", "missing_field");
  expect_error("{requests: 0, window: 1s}", "requests", "invalid_value");
  expect_error("{requests: five, window: 1s}", "requests", "invalid_type");
  expect_error("{requests: 5, window: 500ms}", "window", "invalid_value", "at least");
  expect_error("{requests: 5, window: 1500ms}", "window", "invalid_value", "whole number");
  expect_error("{requests: 5, window: 400d}", "window", "invalid_value", "366d");
  expect_error("{requests: 5, window: soon}", "window", "invalid_value");
  expect_error("{requests: 5, window: 1s, by: user}", "by", "invalid_value", "consumer");
  expect_error("{requests: 5, window: 1s, by: header}", "header", "missing_field");
  expect_error("{requests: 5, window: 1s, by: ip, header: x-user}", "header", "invalid_value");
  expect_error("{requests: 5, window: 1s, algorithm: leaky}", "algorithm", "invalid_value");
  expect_error("{requests: 5, window: 1s, burst: 10}", "burst", "invalid_value", "token-bucket");
  expect_error("{requests: 5, window: 1s, algorithm: token-bucket, burst: 0}", "burst",
               "invalid_value");
  expect_error("{requests: 5, window: 1s, headers: maybe}", "headers", "invalid_type");
  expect_error("{requests: 5, window: 1s, windows: 2}", "windows", "unknown_field");
}

TEST(RateLimitPolicy, AcceptedWindows) {
  for (const char* w : {"1s", "1m", "1h", "24h", "30d", "366d", "90s", "2000ms"})
    EXPECT_TRUE(build(std::string("{requests: 5, window: ") + w + "}").ok()) << w;
}

}  // namespace
}  // namespace gatehouse::policy
