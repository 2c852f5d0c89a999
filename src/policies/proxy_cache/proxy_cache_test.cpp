#include <gtest/gtest.h>

#include "policies/policy.hpp"
#include "policies/proxy_cache/cache_control.hpp"
#include "policies/proxy_cache/cache_store.hpp"

namespace gatehouse::policy {

void register_proxy_cache(Registry& r);

namespace {

TEST(CacheControl, Directives) {
  auto cc = parse_cache_control({{"Cache-Control", "public, max-age=60"},
                                 {"cache-control", "S-MaxAge=\"30\", no-cache=\"Set-Cookie, X\""}});
  EXPECT_TRUE(cc.is_public);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 30);
  EXPECT_TRUE(cc.no_cache);
  EXPECT_FALSE(cc.no_store);
  cc = parse_cache_control({{"Cache-Control", "private,no-store, max-age=abc"}});
  EXPECT_TRUE(cc.is_private);
  EXPECT_TRUE(cc.no_store);
  EXPECT_EQ(cc.max_age, 0);  // invalid: stale
  cc = parse_cache_control({{"Cache-Control", "max-age=99999999999999999999"}});
  EXPECT_EQ(cc.max_age, int64_t{1} << 31);
  EXPECT_FALSE(parse_cache_control({}).max_age);
}

TEST(CacheControl, HttpDate) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
  EXPECT_FALSE(parse_http_date("0"));
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
}

std::shared_ptr<const CacheEntry> entry(size_t body, std::string route = "r") {
  auto e = std::make_shared<CacheEntry>();
  auto resp = std::make_shared<StoredResponse>();
  resp->body.assign(body, 'x');
  e->response = resp;
  e->route = std::move(route);
  e->bytes = body;
  return e;
}

TEST(ResponseCache, LruEvictsByBytesAndEntries) {
  // 16 shards: 16 KiB memory is 1 KiB per shard; 32 entries is 2 per shard.
  ResponseCache c({16 * 1024, 32});
  EXPECT_FALSE(c.put("huge", entry(2048)));  // larger than a shard
  // Fill keys of one shard by probing.
  std::vector<std::string> same;
  for (int i = 0; same.size() < 3; ++i) {
    std::string k = "k" + std::to_string(i);
    if (std::hash<std::string_view>{}(k) % ResponseCache::kShards ==
        std::hash<std::string_view>{}("k0") % ResponseCache::kShards)
      same.push_back(k);
  }
  ASSERT_TRUE(c.put(same[0], entry(100)));
  ASSERT_TRUE(c.put(same[1], entry(100)));
  EXPECT_TRUE(c.get(same[0]));  // now most recent
  ASSERT_TRUE(c.put(same[2], entry(100)));  // 2 entries per shard: evicts same[1]
  EXPECT_TRUE(c.get(same[0]));
  EXPECT_FALSE(c.get(same[1]));
  EXPECT_TRUE(c.get(same[2]));
  ASSERT_TRUE(c.put(same[0], entry(1000)));  // replace, then bytes evict the other
  EXPECT_FALSE(c.get(same[2]));
  auto s = c.stats();
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes, 1000u);
  EXPECT_EQ(s.evictions, 2u);
}

TEST(ResponseCache, PurgeByRoute) {
  ResponseCache c({1 << 20, 1000});
  c.put("a1", entry(1, "a"));
  c.put("a2", entry(1, "a"));
  c.put("b1", entry(1, "b"));
  EXPECT_EQ(c.purge("a"), 2u);
  EXPECT_FALSE(c.get("a1"));
  EXPECT_TRUE(c.get("b1"));
  EXPECT_EQ(c.purge(""), 1u);
  EXPECT_EQ(c.stats().entries, 0u);
}

// A request and its hooks as the proxy runs them.
struct Flow {
  std::shared_ptr<const Policy> p;
  http1::RequestHead head;
  http1::NormalizedTarget target;
  RequestContext ctx;

  Flow(std::shared_ptr<const Policy> pol, std::string method = "GET",
       std::vector<http1::Header> h = {}, std::string query = {})
      : p(std::move(pol)) {
    head.method = std::move(method);
    head.headers = std::move(h);
    head.headers.push_back({"Host", "api.test"});
    target.path = "/items";
    target.query = std::move(query);
    ctx.head = &head;
    ctx.target = &target;
    ctx.route_name = "items";
    Respond out;
    EXPECT_EQ(p->on_request(ctx, out), Action::kContinue);
  }
  // Runs the response hooks; returns X-Cache-Status.
  std::string respond(int status, std::vector<http1::Header> h, std::string body = "payload") {
    p->on_response(ctx, status, h);
    if (p->response_body_want(ctx, status, h).limit >= body.size())
      p->on_response_body(ctx, status, h, body);
    for (const auto& x : h)
      if (x.name == "X-Cache-Status") return x.value;
    return {};
  }
};

std::shared_ptr<const Policy> build(const std::string& yaml, const std::string& route) {
  Registry reg;
  register_proxy_cache(reg);
  config::PolicyRef ref{"proxy-cache", yaml, {}};
  config::RouteConfig rc;
  rc.name = route;
  BuildContext bctx;
  bctx.route = &rc;
  bctx.field = "routes[0].policies[0]";
  auto r = (*reg.find("proxy-cache"))(ref, bctx);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : nullptr;
}

TEST(ProxyCache, MissStoreHitWithAge) {
  auto p = build("ttl: 30s", "t-hit");
  Flow a(p);
  EXPECT_FALSE(a.ctx.serve_stored);
  EXPECT_EQ(a.respond(200, {{"Content-Type", "text/plain"}, {"Age", "3"}}), "MISS");
  Flow b(p);
  ASSERT_TRUE(b.ctx.serve_stored);
  EXPECT_EQ(b.ctx.serve_stored->body, "payload");
  EXPECT_EQ(b.ctx.serve_stored->status, 200);
  std::vector<http1::Header> h = b.ctx.serve_stored->headers;
  b.p->on_response(b.ctx, 200, h);
  bool age = false, hit = false;
  for (const auto& x : h) {
    age = age || (x.name == "Age" && x.value == "3");
    hit = hit || (x.name == "X-Cache-Status" && x.value == "HIT");
  }
  EXPECT_TRUE(age && hit);
  Flow head_req(p, "HEAD");  // a HEAD is answered from the GET's entry
  EXPECT_TRUE(head_req.ctx.serve_stored);
  Flow other(p, "GET", {}, "page=2");  // the query is part of the key
  EXPECT_FALSE(other.ctx.serve_stored);
}

TEST(ProxyCache, WhatIsNotStored) {
  auto p = build("ttl: 0s", "t-not");
  struct Case {
    int status;
    std::vector<http1::Header> h;
  } cases[] = {
      {200, {}},  // no freshness and ttl 0
      {200, {{"Cache-Control", "no-store, max-age=60"}}},
      {200, {{"Cache-Control", "private, max-age=60"}}},
      {200, {{"Cache-Control", "no-cache, max-age=60"}}},
      {200, {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=b"}}},
      {200, {{"Cache-Control", "max-age=60"}, {"Vary", "*"}}},
      {200, {{"Cache-Control", "max-age=60"}, {"Age", "60"}}},
      {200, {{"Expires", "Thu, 01 Jan 1970 00:00:00 GMT"}}},
      {200, {{"Expires", "not a date"}}},
      {500, {{"Cache-Control", "max-age=60"}}},
  };
  for (auto& c : cases) {
    Flow a(p);
    EXPECT_EQ(a.respond(c.status, c.h), "MISS");
    Flow b(p);
    EXPECT_FALSE(b.ctx.serve_stored) << c.status << " " << (c.h.empty() ? "" : c.h[0].value);
  }
  // A request with Authorization is stored only when the response says public.
  Flow auth(p, "GET", {{"Authorization", "Bearer x"}});
  auth.respond(200, {{"Cache-Control", "max-age=60"}});
  EXPECT_FALSE(Flow(p).ctx.serve_stored);
  Flow auth2(p, "GET", {{"Authorization", "Bearer x"}});
  auth2.respond(200, {{"Cache-Control", "public, max-age=60"}});
  EXPECT_TRUE(Flow(p).ctx.serve_stored);
}

TEST(ProxyCache, VaryKeepsOneEntryPerVariant) {
  auto p = build("{}", "t-vary");
  Flow en(p, "GET", {{"Accept-Language", "en"}});
  en.respond(200, {{"Vary", "Accept-Language"}, {"Cache-Control", "max-age=60"}}, "hello");
  Flow fr(p, "GET", {{"Accept-Language", "fr"}});
  EXPECT_FALSE(fr.ctx.serve_stored);
  fr.respond(200, {{"Vary", "Accept-Language"}, {"Cache-Control", "max-age=60"}}, "bonjour");
  Flow en2(p, "GET", {{"Accept-Language", "en"}});
  ASSERT_TRUE(en2.ctx.serve_stored);
  EXPECT_EQ(en2.ctx.serve_stored->body, "hello");
  Flow fr2(p, "GET", {{"Accept-Language", "fr"}});
  ASSERT_TRUE(fr2.ctx.serve_stored);
  EXPECT_EQ(fr2.ctx.serve_stored->body, "bonjour");
}

TEST(ProxyCache, RequestNoCacheBypassesAndRefreshes) {
  auto p = build("{}", "t-bypass");
  Flow(p).respond(200, {{"Cache-Control", "max-age=60"}}, "old");
  Flow nc(p, "GET", {{"Cache-Control", "no-cache"}});
  EXPECT_FALSE(nc.ctx.serve_stored);
  EXPECT_EQ(nc.respond(200, {{"Cache-Control", "max-age=60"}}, "new"), "BYPASS");
  Flow after(p);
  ASSERT_TRUE(after.ctx.serve_stored);
  EXPECT_EQ(after.ctx.serve_stored->body, "new");
  Flow post(p, "POST");
  EXPECT_FALSE(post.ctx.serve_stored);
  EXPECT_EQ(post.respond(200, {{"Cache-Control", "max-age=60"}}), "BYPASS");
  auto ignoring = build("request_no_cache: ignore", "t-ignore");
  Flow(ignoring).respond(200, {{"Cache-Control", "max-age=60"}});
  EXPECT_TRUE(Flow(ignoring, "GET", {{"Pragma", "no-cache"}}).ctx.serve_stored);
}

TEST(ProxyCache, KeySelectsQueryParamsAndHeaders) {
  auto p = build("key: {query: [page], headers: [X-Tenant]}", "t-key");
  Flow(p, "GET", {{"X-Tenant", "a"}}, "page=1&utm=x").respond(200, {{"Cache-Control", "max-age=60"}});
  EXPECT_TRUE(Flow(p, "GET", {{"X-Tenant", "a"}}, "utm=y&page=1").ctx.serve_stored);
  EXPECT_FALSE(Flow(p, "GET", {{"X-Tenant", "b"}}, "page=1").ctx.serve_stored);
  EXPECT_FALSE(Flow(p, "GET", {{"X-Tenant", "a"}}, "page=2").ctx.serve_stored);
}

TEST(ProxyCache, LargeBodiesAreNotStored) {
  auto p = build("max_entry: 4", "t-large");
  Flow(p).respond(200, {{"Cache-Control", "max-age=60"}}, "too long");
  EXPECT_FALSE(Flow(p).ctx.serve_stored);
}

TEST(ProxyCache, ConfigErrors) {
  Registry reg;
  register_proxy_cache(reg);
  for (const char* bad : {"ttl: x", "max_entry: 0", "memory: 1k", "statuses: [99]",
                          "key: {query: maybe}", "key: {cookie: [a]}", "request_no_cache: maybe",
                          "size: 1"}) {
    config::PolicyRef ref{"proxy-cache", bad, {}};
    BuildContext bctx;
    bctx.field = "routes[0].policies[0]";
    EXPECT_FALSE((*reg.find("proxy-cache"))(ref, bctx).ok()) << bad;
  }
}

}  // namespace
}  // namespace gatehouse::policy
