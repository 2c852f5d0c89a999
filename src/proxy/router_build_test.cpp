#include "proxy/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proxy/router_test_util.hpp"

namespace gatehouse::proxy {
namespace {

TEST(RouterBuildTest, InvalidPathRegexNamesTheField) {
  std::vector<RouteConfig> routes(2);
  routes[0].match.paths = {pat("/ok")};
  routes[1].match.paths = {pat("/fine"), pat("~/bad[")};
  auto r = Router::build(routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_regex");
  EXPECT_EQ(r.error().field, "routes[1].match.paths[1]");
  EXPECT_EQ(r.error().side, ErrorSide::kConfig);
  EXPECT_NE(r.error().message.find("/bad["), std::string::npos);
}

TEST(RouterBuildTest, InvalidPredicateRegex) {
  std::vector<RouteConfig> routes(1);
  routes[0].match.headers = {{"x-v", "~(unclosed"}};
  auto r = Router::build(routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_regex");
  EXPECT_EQ(r.error().field, "routes[0].match.headers.x-v");
  routes[0].match.headers.clear();
  routes[0].match.cookies = {{"c", "~*"}};
  r = Router::build(routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "routes[0].match.cookies.c");
}

TEST(RouterBuildTest, InvalidTemplates) {
  for (const char* bad : {"/users/{}", "/files/{name}.json", "/a/{x}/{x}", "/a/{b{c}}", "/a/b}"}) {
    std::vector<RouteConfig> routes(1);
    routes[0].match.paths = {{PathKind::kTemplate, bad}};
    auto r = Router::build(routes);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_template") << bad;
    EXPECT_EQ(r.error().field, "routes[0].match.paths[0]");
  }
}

TEST(RouterBuildTest, InvalidRewrite) {
  std::vector<RouteConfig> routes(1);
  routes[0].rewrite.regex = "(a";
  auto r = Router::build(routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "routes[0].rewrite.regex");
  routes[0].rewrite.regex = "/(a)";
  routes[0].rewrite.replacement = "/\\2";
  r = Router::build(routes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_replacement");
  EXPECT_EQ(r.error().field, "routes[0].rewrite.replacement");
}

TEST(RouterBuildTest, InvalidHosts) {
  for (const char* bad : {"api.*.com", "*example.com", "*.", ""}) {
    std::vector<RouteConfig> routes(1);
    routes[0].match.hosts = {"ok.test", bad};
    auto r = Router::build(routes);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_host");
    EXPECT_EQ(r.error().field, "routes[0].match.hosts[1]");
  }
}

TEST(RouterBuildTest, EmptyRouterMatchesNothing) {
  auto r = Router::build({});
  ASSERT_TRUE(r.ok());
  Req req = get("/");
  RouteMatch m;
  EXPECT_FALSE((*r)->match(req.view(), m));
  EXPECT_EQ(m.route, nullptr);
}

// --- rewrite -----------------------------------------------------------------

TEST_F(RouterTest, RewritePath) {
  auto strip = route("strip", {"/api"});
  strip.rewrite.strip_prefix = true;
  auto strip_slash = route("strip-slash", {"/s/"});
  strip_slash.rewrite.strip_prefix = true;
  auto strip_join = route("strip-join", {"/j"});
  strip_join.rewrite.strip_prefix = true;
  strip_join.rewrite.path_prefix = "/internal";
  auto strip_join_slash = route("strip-join-slash", {"/k"});
  auto slash_join = route("slash-join", {"/l/"});
  slash_join.rewrite.strip_prefix = true;
  slash_join.rewrite.path_prefix = "/internal";
  strip_join_slash.rewrite.strip_prefix = true;
  strip_join_slash.rewrite.path_prefix = "/internal/";
  auto regex = route("regex", {"~/v([0-9]+)/(.*)"});
  regex.rewrite.regex = "^/v([0-9]+)/(.*)$";
  regex.rewrite.replacement = "/\\2/version/\\1";
  auto only_prefix = route("only-prefix", {"=/exact"});
  only_prefix.rewrite.path_prefix = "/base";
  auto strip_exact = route("strip-on-exact", {"=/e"});
  strip_exact.rewrite.strip_prefix = true;  // ignored: not a prefix route
  auto none = route("none", {"/n"});
  auto root_strip = route("root-strip", {"/"}, {"root.test"});
  root_strip.rewrite.strip_prefix = true;
  build({strip, strip_slash, strip_join, strip_join_slash, slash_join, regex, only_prefix,
         strip_exact, none, root_strip});

  auto rewritten = [&](const Req& req) {
    RouteMatch m;
    EXPECT_TRUE(router_->match(req.view(), m)) << req.path;
    return router_->rewrite_path(m, req.path);
  };
  EXPECT_EQ(rewritten(get("/api/users")), "/users");
  EXPECT_EQ(rewritten(get("/api")), "/");
  EXPECT_EQ(rewritten(get("/api/")), "/");
  EXPECT_EQ(rewritten(get("/s/x/y")), "/x/y");
  EXPECT_EQ(rewritten(get("/s/")), "/");
  EXPECT_EQ(rewritten(get("/j/users")), "/internal/users");
  EXPECT_EQ(rewritten(get("/j")), "/internal");
  EXPECT_EQ(rewritten(get("/j/")), "/internal/");
  EXPECT_EQ(rewritten(get("/k/users")), "/internal/users");
  EXPECT_EQ(rewritten(get("/k")), "/internal/");  // path_prefix is used verbatim
  EXPECT_EQ(rewritten(get("/l/")), "/internal/");
  EXPECT_EQ(rewritten(get("/l/a")), "/internal/a");
  EXPECT_EQ(rewritten(get("/v2/items/9")), "/items/9/version/2");
  EXPECT_EQ(rewritten(get("/exact")), "/base/exact");
  EXPECT_EQ(rewritten(get("/e")), "/e");
  EXPECT_EQ(rewritten(get("/n/x")), "/n/x");
  EXPECT_EQ(rewritten(get("/a/b", "root.test")), "/a/b");
}

TEST_F(RouterTest, RewriteRegexWithoutMatchLeavesPath) {
  auto r = route("r", {"/"});
  r.rewrite.regex = "^/old/(.*)$";
  r.rewrite.replacement = "/new/\\1";
  r.rewrite.path_prefix = "/p";
  build({r});
  RouteMatch m;
  Req req = get("/old/x");
  ASSERT_TRUE(router_->match(req.view(), m));
  EXPECT_EQ(router_->rewrite_path(m, "/old/x"), "/p/new/x");
  EXPECT_EQ(router_->rewrite_path(m, "/other"), "/p/other");
}

TEST_F(RouterTest, RouterOwnsItsCopy) {
  std::vector<RouteConfig> routes = {route("a", {"/a"}), route("b", {"/b"})};
  auto r = Router::build(routes);
  ASSERT_TRUE(r.ok());
  routes.clear();  // the caller's vector is gone; the router still answers
  Req req = get("/b/1");
  RouteMatch m;
  ASSERT_TRUE((*r)->match(req.view(), m));
  EXPECT_EQ(m.route_index, 1u);
  EXPECT_EQ(m.route, &(*r)->routes()[1]);
  EXPECT_EQ(m.route->name, "b");
}

TEST(RouterThreadTest, ConcurrentMatchesAgree) {
  // One router is shared by every worker; match() must be safe without locks.
  std::vector<RouteConfig> routes;
  for (int i = 0; i < 40; ++i) {
    routes.push_back(route("re" + std::to_string(i), {"~/r" + std::to_string(i) + "/[0-9]+"}));
    routes.push_back(route("t" + std::to_string(i), {"/t" + std::to_string(i) + "/{id}"}));
  }
  auto q = route("q", {"/q"});
  q.match.query = {{"k", "~[a-z ]+"}};
  routes.push_back(q);
  auto built = Router::build(routes);
  ASSERT_TRUE(built.ok());
  const Router& router = **built;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RouteMatch m;
      for (int n = 0; n < 2000; ++n) {
        int i = (n + t) % 40;
        Req a = get("/r" + std::to_string(i) + "/" + std::to_string(n));
        Req b = get("/t" + std::to_string(i) + "/x");
        Req c = get("/q");
        c.query = "k=a%20b+c";
        if (!router.match(a.view(), m) || m.route->name != "re" + std::to_string(i)) ++wrong;
        if (!router.match(b.view(), m) || m.params.at(0).second != "x") ++wrong;
        if (!router.match(c.view(), m) || m.route->name != "q") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

// --- scale -------------------------------------------------------------------

TEST(RouterScaleTest, TenThousandRoutesEachFound) {
  constexpr int kRoutes = 10'000;
  std::vector<RouteConfig> routes;
  std::vector<Req> requests;
  std::vector<std::vector<std::pair<std::string, std::string>>> params;
  routes.reserve(kRoutes);
  for (int i = 0; i < kRoutes; ++i) {
    std::string n = std::to_string(i);
    RouteConfig r;
    r.name = "r" + n;
    r.order = i;
    Req req;
    req.host = "any.test";
    std::vector<std::pair<std::string, std::string>> want;
    int bucket = i % 20;  // 40% exact, 30% template, 25% prefix, 5% regex
    if (bucket < 8) {
      r.match.paths = {pat("=/exact/" + n + "/item")};
      req.path = "/exact/" + n + "/item";
    } else if (bucket < 14) {
      r.match.paths = {pat("/tmpl/" + n + "/{id}/sub/{sid}")};
      req.path = "/tmpl/" + n + "/abc/sub/x" + n;
      want = {{"id", "abc"}, {"sid", "x" + n}};
    } else if (bucket < 19) {
      r.match.paths = {pat("/pre/" + n)};
      req.path = "/pre/" + n + "/deeper/path";
    } else {
      r.match.paths = {pat("~/re/" + n + "/[0-9]+")};
      req.path = "/re/" + n + "/123";
    }
    if (i % 7 == 0) {
      r.match.hosts = {"h" + std::to_string(i % 50) + ".example.com"};
      req.host = "h" + std::to_string(i % 50) + ".example.com";
    } else if (i % 11 == 0) {
      r.match.hosts = {"*.w" + std::to_string(i % 30) + ".example.com"};
      req.host = "x.w" + std::to_string(i % 30) + ".example.com";
    }
    if (i % 13 == 0) {
      r.match.methods = {"POST"};
      req.method = "POST";
    }
    routes.push_back(std::move(r));
    requests.push_back(std::move(req));
    params.push_back(std::move(want));
  }
  auto built = Router::build(routes);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const Router& router = **built;
  RouteMatch m;
  int failures = 0;
  for (int i = 0; i < kRoutes && failures < 10; ++i) {
    bool ok = router.match(requests[i].view(), m) && m.route_index == static_cast<size_t>(i) &&
              m.params == params[i];
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "route " << i << " path " << requests[i].path << " got "
                    << (m.route ? m.route->name : "<none>");
    }
  }
  Req miss = get("/nowhere/at/all");
  EXPECT_FALSE(router.match(miss.view(), m));
  miss.path = "/exact/26/item";  // route 26 is POST-only
  miss.method = "GET";
  EXPECT_FALSE(router.match(miss.view(), m));
}

}  // namespace
}  // namespace gatehouse::proxy
