#include <gtest/gtest.h>

#include <map>
#include <set>

#include "policies/policy.hpp"

namespace gatehouse::policy {

void register_traffic_split(Registry& r);

namespace {

// Snapshot upstream indexes used throughout: the route's own is "checkout".
const std::map<std::string, int, std::less<>> kUpstreams = {
    {"checkout", 0}, {"checkout-v2", 1}, {"checkout-v3", 2}};

struct Env {
  config::Config cfg;
  std::shared_ptr<const ConsumerSet> consumers;

  Env() {
    for (const auto& [name, idx] : kUpstreams) {
      config::UpstreamConfig u;
      u.name = name;
      cfg.upstreams.push_back(u);
    }
    config::RouteConfig route;
    route.name = "checkout";
    route.upstream = "checkout";
    cfg.routes.push_back(route);
    const std::pair<const char*, std::vector<std::string>> people[] = {
        {"alice", {"beta"}}, {"bob", {"staff", "gold"}}, {"carol", {}}};
    for (const auto& [name, groups] : people) {
      config::ConsumerConfig c;
      c.name = name;
      c.groups = groups;
      cfg.consumers.push_back(c);
    }
    consumers = build_consumers(cfg.consumers).value();
  }

  Result<std::shared_ptr<const Policy>> build(const std::string& yaml,
                                              std::string field = "routes[0].policies[0]") const {
    Registry reg;
    register_traffic_split(reg);
    config::PolicyRef ref{"traffic-split", yaml, {}};
    BuildContext bctx;
    bctx.config = &cfg;
    bctx.consumers = consumers.get();
    bctx.field = std::move(field);
    bctx.upstream_index = [](std::string_view n) {
      auto it = kUpstreams.find(n);
      return it == kUpstreams.end() ? -1 : it->second;
    };
    return (*reg.find("traffic-split"))(ref, bctx);
  }

  std::shared_ptr<const Policy> must(const std::string& yaml) const {
    auto p = build(yaml);
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().field + ": " + p.error().message);
    return p.ok() ? p.value() : nullptr;
  }

  Error error(const std::string& yaml) const {
    auto p = build(yaml);
    EXPECT_FALSE(p.ok()) << "accepted: " << yaml;
    return p.ok() ? Error{} : p.error();
  }
};

struct Req {
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;

  explicit Req(std::initializer_list<http1::Header> headers = {}, std::string query = {}) {
    head.method = "GET";
    head.headers = headers;
    target.path = "/cart";
    target.query = std::move(query);
    ctx.head = &head;
    ctx.target = &target;
    ctx.client_ip = "203.0.113.9";
    ctx.route_name = "checkout";
  }
};

// Runs the policy on `r` and returns the chosen upstream index (-1: the route's own).
int route(const Policy& p, Req& r) {
  Respond out;
  EXPECT_EQ(p.on_request(r.ctx, out), Action::kContinue);
  return r.ctx.upstream_override;
}

int route(const Policy& p, std::initializer_list<http1::Header> headers, std::string query = {}) {
  Req r(headers, std::move(query));
  return route(p, r);
}

constexpr const char* kBase = "routes[0].policies[0].config.";

// ------------------------------------------------------------------- rules

TEST(TrafficSplit, ShapeFromTheDocs) {
  Env env;
  auto p = env.must(
      "rules: [{match: {headers: {x-canary: \"1\"}}, upstream: checkout-v2}]\n"
      "weighted: [{upstream: checkout-v2, weight: 10}]\n");
  EXPECT_EQ(p->name(), "traffic-split");
  EXPECT_EQ(p->phase(), Phase::kRoute);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(route(*p, {{"X-Canary", "1"}}), 1);
  Req r({{"x-canary", "1"}});
  route(*p, r);
  EXPECT_EQ(r.ctx.vars["traffic_split.upstream"], "checkout-v2");
  EXPECT_EQ(r.ctx.vars["traffic_split.match"], "rules[0]");
}

TEST(TrafficSplit, HeaderExactRegexPresence) {
  Env env;
  auto p = env.must(
      "rules:\n"
      "  - {match: {headers: {x-canary: '1'}}, upstream: checkout-v2}\n"
      "  - {match: {headers: {user-agent: '~.*Mobile.*'}}, upstream: checkout-v3}\n"
      "  - {match: {headers: {x-debug: '*'}}, upstream: checkout-v2}\n");
  EXPECT_EQ(route(*p, {{"x-canary", "1"}}), 1);
  EXPECT_EQ(route(*p, {{"x-canary", "10"}}), -1);                   // exact, not prefix
  EXPECT_EQ(route(*p, {{"x-canary", "2"}, {"x-canary", "1"}}), 1);  // any occurrence
  EXPECT_EQ(route(*p, {{"User-Agent", "Foo Mobile Safari"}}), 2);
  EXPECT_EQ(route(*p, {{"User-Agent", "Desktop"}}), -1);
  EXPECT_EQ(route(*p, {{"X-Debug", ""}}), 1);
  EXPECT_EQ(route(*p, {}), -1);
}

TEST(TrafficSplit, CookiesAndQuery) {
  Env env;
  auto p = env.must(
      "rules:\n"
      "  - {match: {cookies: {beta: 'yes'}}, upstream: checkout-v2}\n"
      "  - {match: {query: {version: '~v[3-9]', 'full name': '*'}}, upstream: checkout-v3}\n"
      "  - {match: {query: {ui: new look}}, upstream: checkout-v3}\n");
  EXPECT_EQ(route(*p, {{"Cookie", "a=1; beta=yes; c=3"}}), 1);
  EXPECT_EQ(route(*p, {{"Cookie", "beta=\"yes\""}}), 1);
  EXPECT_EQ(route(*p, {{"Cookie", "beta=no"}, {"Cookie", "beta=yes"}}), -1);  // first one counts
  EXPECT_EQ(route(*p, {{"Cookie", "xbeta=yes"}}), -1);
  EXPECT_EQ(route(*p, {}, "version=v4&full%20name"), 2);
  EXPECT_EQ(route(*p, {}, "version=v4"), -1);  // both conditions needed
  EXPECT_EQ(route(*p, {}, "ui=new+look"), 2);
  EXPECT_EQ(route(*p, {}, "ui=new%20look"), 2);
  Req rewritten({}, "ui=old");
  rewritten.ctx.query_override = "ui=new%20look";  // an earlier policy rewrote it
  rewritten.ctx.query_overridden = true;
  EXPECT_EQ(route(*p, rewritten), 2);
}

TEST(TrafficSplit, ConsumersAndGroups) {
  Env env;
  auto p = env.must(
      "rules:\n"
      "  - {match: {consumers: [carol]}, upstream: checkout-v3}\n"
      "  - {match: {groups: [beta, staff]}, upstream: checkout-v2}\n");
  const auto& all = env.consumers->all();
  auto as = [&](const char* name) {
    Req r;
    r.ctx.consumers = env.consumers.get();
    r.ctx.consumer = env.consumers->find(name);
    return route(*p, r);
  };
  EXPECT_EQ(as("carol"), 2);
  EXPECT_EQ(as("alice"), 1);  // group beta
  EXPECT_EQ(as("bob"), 1);    // group staff
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(route(*p, {}), -1);  // anonymous
}

TEST(TrafficSplit, AllConditionsOfARuleMustHold) {
  Env env;
  auto p = env.must(
      "rules: [{match: {headers: {x-canary: '1'}, groups: [beta]}, upstream: checkout-v2}]");
  Req anon({{"x-canary", "1"}});
  EXPECT_EQ(route(*p, anon), -1);
  Req alice({{"x-canary", "1"}});
  alice.ctx.consumer = env.consumers->find("alice");
  EXPECT_EQ(route(*p, alice), 1);
}

TEST(TrafficSplit, FirstMatchingRuleWinsAndRulesBeatWeights) {
  Env env;
  auto p = env.must(
      "rules:\n"
      "  - {match: {headers: {x-pin: v1}}, upstream: checkout}\n"
      "  - {match: {headers: {x-canary: '*'}}, upstream: checkout-v2}\n"
      "  - {match: {headers: {x-canary: '1'}}, upstream: checkout-v3}\n"
      "weighted: [{upstream: checkout-v3, weight: 100}]\n");
  EXPECT_EQ(route(*p, {{"x-canary", "1"}}), 1);                   // second rule before third
  EXPECT_EQ(route(*p, {{"x-canary", "1"}, {"x-pin", "v1"}}), 0);  // pinned to the route's own
  Req pinned({{"x-pin", "v1"}});
  route(*p, pinned);
  EXPECT_EQ(pinned.ctx.vars["traffic_split.match"], "rules[0]");
  EXPECT_EQ(pinned.ctx.vars["traffic_split.upstream"], "checkout");
  EXPECT_EQ(route(*p, {}), 2);  // no rule: weight 100
}

TEST(TrafficSplit, EarlierDecisionIsKept) {
  Env env;
  auto p = env.must("weighted: [{upstream: checkout-v3, weight: 100}]");
  Req r;
  r.ctx.upstream_override = 1;  // a global traffic-split already chose
  EXPECT_EQ(route(*p, r), 1);
}

// ---------------------------------------------------------------- weights

TEST(TrafficSplit, StickyDistributionOver100kKeys) {
  Env env;
  auto p = env.must(
      "weighted: [{upstream: checkout-v2, weight: 10}, {upstream: checkout-v3, weight: 25}]\n"
      "sticky: {by: header, name: x-user}\n");
  constexpr int kKeys = 100'000;
  int counts[3] = {0, 0, 0};
  Req r;
  r.head.headers = {{"X-User", ""}};
  for (int i = 0; i < kKeys; ++i) {
    r.head.headers[0].value = "user-" + std::to_string(i);
    r.ctx.upstream_override = -1;
    int u = route(*p, r);
    ++counts[u < 0 ? 0 : u];
  }
  auto pct = [&](int n) { return 100.0 * n / kKeys; };
  EXPECT_NEAR(pct(counts[1]), 10.0, 1.5);
  EXPECT_NEAR(pct(counts[2]), 25.0, 1.5);
  EXPECT_NEAR(pct(counts[0]), 65.0, 1.5);  // the remainder stays on the route's own upstream
  EXPECT_EQ(r.ctx.vars["traffic_split.match"].empty(), false);
}

TEST(TrafficSplit, StickyKeepsOneUserOnOneSide) {
  Env env;
  auto p = env.must(
      "weighted: [{upstream: checkout-v2, weight: 50}]\nsticky: {by: header, name: x-user}\n");
  int moved = 0, on_v2 = 0;
  for (int u = 0; u < 500; ++u) {
    std::string user = "u" + std::to_string(u);
    int first = route(*p, {{"x-user", user}});
    on_v2 += first == 1;
    for (int i = 0; i < 20; ++i) moved += route(*p, {{"X-USER", user}}) != first;
  }
  EXPECT_EQ(moved, 0);
  EXPECT_GT(on_v2, 150);  // and users do land on both sides
  EXPECT_LT(on_v2, 350);
}

TEST(TrafficSplit, StickyByCookieConsumerAndIp) {
  Env env;
  auto by_cookie =
      env.must("weighted: [{upstream: checkout-v2, weight: 50}]\nsticky: {by: cookie, name: sid}");
  auto by_consumer =
      env.must("weighted: [{upstream: checkout-v2, weight: 50}]\nsticky: {by: consumer}");
  auto by_ip = env.must("weighted: [{upstream: checkout-v2, weight: 50}]\nsticky: {by: ip}");
  std::map<int, int> cookie_sides, consumer_sides, ip_sides;
  for (int k = 0; k < 200; ++k) {
    std::string key = "k" + std::to_string(k);
    std::set<int> seen_cookie, seen_consumer, seen_ip;
    Consumer c{key, {}, 0};
    for (int i = 0; i < 10; ++i) {
      Req a({{"Cookie", "x=1; sid=" + key}});
      seen_cookie.insert(route(*by_cookie, a));
      Req b;
      b.ctx.consumer = &c;
      seen_consumer.insert(route(*by_consumer, b));
      Req d;
      d.ctx.client_ip = key;
      seen_ip.insert(route(*by_ip, d));
    }
    EXPECT_EQ(seen_cookie.size(), 1u);
    EXPECT_EQ(seen_consumer.size(), 1u);
    EXPECT_EQ(seen_ip.size(), 1u);
    ++cookie_sides[*seen_cookie.begin()];
    ++consumer_sides[*seen_consumer.begin()];
    ++ip_sides[*seen_ip.begin()];
  }
  for (auto* sides : {&cookie_sides, &consumer_sides, &ip_sides}) {
    EXPECT_GT((*sides)[1], 50);
    EXPECT_GT((*sides)[-1], 50);
  }
}

TEST(TrafficSplit, SameKeySameBucketAcrossPolicies) {
  // The hash is stable (not per process or per policy): a user in the canary
  // cohort of one route is in it on another route with the same weight.
  Env env;
  auto a = env.must("weighted: [{upstream: checkout-v2, weight: 30}]\nsticky: {by: ip}");
  auto b = env.must("weighted: [{upstream: checkout-v3, weight: 30}]\nsticky: {by: ip}");
  for (int k = 0; k < 300; ++k) {
    Req x, y;
    std::string ip = "10.0.0." + std::to_string(k);  // ctx.client_ip is a view
    x.ctx.client_ip = y.ctx.client_ip = ip;
    EXPECT_EQ(route(*a, x) == 1, route(*b, y) == 2);
  }
}

TEST(TrafficSplit, WithoutAKeyTheSplitIsRandom) {
  Env env;
  auto unsticky = env.must("weighted: [{upstream: checkout-v2, weight: 30}]");
  auto missing_key =
      env.must("weighted: [{upstream: checkout-v2, weight: 30}]\nsticky: {by: header, name: x-u}");
  for (const auto* p : {&unsticky, &missing_key}) {
    int v2 = 0;
    constexpr int kN = 20'000;
    for (int i = 0; i < kN; ++i) v2 += route(**p, {}) == 1;
    EXPECT_NEAR(100.0 * v2 / kN, 30.0, 1.5);
  }
}

TEST(TrafficSplit, ZeroAndFullWeights) {
  Env env;
  auto zero = env.must("weighted: [{upstream: checkout-v2, weight: 0}]");
  auto full = env.must(
      "weighted: [{upstream: checkout-v2, weight: 0}, {upstream: checkout-v3, "
      "weight: 100}]");
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(route(*zero, {}), -1);
    EXPECT_EQ(route(*full, {}), 2);
  }
}

TEST(TrafficSplit, DefaultIsRecordedInVars) {
  Env env;
  auto p = env.must("rules: [{match: {headers: {x-canary: '1'}}, upstream: checkout-v2}]");
  Req r;
  route(*p, r);
  EXPECT_EQ(r.ctx.upstream_override, -1);
  EXPECT_EQ(r.ctx.vars["traffic_split.upstream"], "checkout");
  EXPECT_EQ(r.ctx.vars["traffic_split.match"], "default");
  // A global attachment does not know the route: no upstream name is claimed.
  auto global = env.build("weighted: [{upstream: checkout-v2, weight: 0}]", "policies[0]");
  ASSERT_TRUE(global.ok());
  Req g;
  route(*global.value(), g);
  EXPECT_EQ(g.ctx.vars.count("traffic_split.upstream"), 0u);
  EXPECT_EQ(g.ctx.vars["traffic_split.match"], "default");
}

// ----------------------------------------------------------- config errors

TEST(TrafficSplitConfig, UnknownUpstreamsHaveFieldPaths) {
  Env env;
  Error w = env.error(
      "weighted: [{upstream: checkout-v2, weight: 5}, {upstream: chekout-v3, "
      "weight: 5}]");
  EXPECT_EQ(w.code, "unknown_upstream");
  EXPECT_EQ(w.field, std::string(kBase) + "weighted[1].upstream");
  EXPECT_NE(w.message.find("'chekout-v3'"), std::string::npos);
  EXPECT_NE(w.message.find("known: checkout, checkout-v2, checkout-v3"), std::string::npos);
  Error r = env.error("rules: [{match: {headers: {a: b}}, upstream: nope}]");
  EXPECT_EQ(r.field, std::string(kBase) + "rules[0].upstream");
  Error missing = env.error("weighted: [{weight: 5}]");
  EXPECT_EQ(missing.code, "missing_field");
  EXPECT_EQ(missing.field, std::string(kBase) + "weighted[0].upstream");
}

TEST(TrafficSplitConfig, Weights) {
  Env env;
  Error sum = env.error(
      "weighted: [{upstream: checkout-v2, weight: 60}, {upstream: checkout-v3, weight: 50}]");
  EXPECT_EQ(sum.field, std::string(kBase) + "weighted");
  EXPECT_NE(sum.message.find("add up to 110"), std::string::npos) << sum.message;
  for (const char* bad : {"101", "-1", "2.5", "ten", "[1]", "10%"}) {
    Error e = env.error(std::string("weighted: [{upstream: checkout-v2, weight: ") + bad + "}]");
    EXPECT_EQ(e.code, "invalid_value") << bad;
    EXPECT_EQ(e.field, std::string(kBase) + "weighted[0].weight") << bad;
  }
  EXPECT_EQ(env.error("weighted: [{upstream: checkout-v2}]").field,
            std::string(kBase) + "weighted[0].weight");
  Error dup = env.error(
      "weighted: [{upstream: checkout-v2, weight: 5}, {upstream: checkout-v2, weight: 5}]");
  EXPECT_EQ(dup.field, std::string(kBase) + "weighted[1].upstream");
  EXPECT_TRUE(env.build("weighted: [{upstream: checkout-v2, weight: 100}]").ok());
}

TEST(TrafficSplitConfig, RulesAndSticky) {
  Env env;
  struct Case {
    const char* yaml;
    const char* code;
    const char* field;
  } cases[] = {
      {"rules: [{match: {}, upstream: checkout-v2}]", "invalid_value", "rules[0].match"},
      {"rules: [{upstream: checkout-v2}]", "missing_field", "rules[0].match"},
      {"rules: [{match: {headers: {x: '~(a'}}, upstream: checkout-v2}]", "invalid_regex",
       "rules[0].match.headers.x"},
      {"rules: [{match: {headers: {x: }}, upstream: checkout-v2}]", "invalid_value",
       "rules[0].match.headers.x"},
      {"rules: [{match: {headers: {'a b': '1'}}, upstream: checkout-v2}]", "invalid_value",
       "rules[0].match.headers.a b"},
      {"rules: [{match: {consumers: [alice, mallory]}, upstream: checkout-v2}]", "unknown_consumer",
       "rules[0].match.consumers[1]"},
      {"rules: [{match: {path: /x}, upstream: checkout-v2}]", "unknown_field",
       "rules[0].match.path"},
      {"rules: [{match: {groups: [a]}, upstream: checkout-v2, weight: 3}]", "unknown_field",
       "rules[0].weight"},
      {"rules: {match: {}}", "invalid_type", "rules"},
      {"weighted: [{upstream: checkout-v2, weight: 5}]\nsticky: {by: header}", "missing_field",
       "sticky.name"},
      {"weighted: [{upstream: checkout-v2, weight: 5}]\nsticky: {by: session}", "invalid_value",
       "sticky.by"},
      {"weighted: [{upstream: checkout-v2, weight: 5}]\nsticky: {by: ip, name: x}", "invalid_value",
       "sticky.name"},
      {"weighted: [{upstream: checkout-v2, weight: 5}]\nsticky: {name: x}", "missing_field",
       "sticky.by"},
      {"weights: [{upstream: checkout-v2, weight: 5}]", "unknown_field", "weights"},
  };
  for (const auto& c : cases) {
    Error e = env.error(c.yaml);
    EXPECT_EQ(e.code, c.code) << c.yaml << " -> " << e.message;
    EXPECT_EQ(e.field, std::string(kBase) + c.field) << c.yaml << " -> " << e.message;
  }
  Error empty = env.error("");
  EXPECT_EQ(empty.code, "missing_field");
  EXPECT_EQ(empty.field, "routes[0].policies[0].config");
}

}  // namespace
}  // namespace gatehouse::policy
