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

TEST_F(RouterTest, ExactPath) {
  build({route("e", {"=/health"})});
  EXPECT_EQ(winner("/health"), "e");
  EXPECT_EQ(winner("/health/"), "");
  EXPECT_EQ(winner("/healthz"), "");
  EXPECT_EQ(winner("/"), "");
}

TEST_F(RouterTest, PrefixMatchesOnSegmentBoundary) {
  build({route("api", {"/api"})});
  EXPECT_EQ(winner("/api"), "api");
  EXPECT_EQ(winner("/api/"), "api");
  EXPECT_EQ(winner("/api/users/7"), "api");
  EXPECT_EQ(winner("/apix"), "");
  EXPECT_EQ(winner("/ap"), "");
  EXPECT_EQ(winner("/"), "");
  EXPECT_EQ(last_.matched_prefix, "");
  EXPECT_EQ(winner("/api/users"), "api");
  EXPECT_EQ(last_.matched_prefix, "/api");
}

TEST_F(RouterTest, PrefixWithTrailingSlashNeedsTheSlash) {
  build({route("slash", {"/api/"})});
  EXPECT_EQ(winner("/api/"), "slash");
  EXPECT_EQ(winner("/api/x"), "slash");
  EXPECT_EQ(winner("/api"), "");
  EXPECT_EQ(winner("/apix/"), "");
}

TEST_F(RouterTest, RootPrefixAndEmptyPathsMatchEverything) {
  build({route("root", {"/"})});
  EXPECT_EQ(winner("/"), "root");
  EXPECT_EQ(winner("/a/b/c"), "root");
  build({route("nopaths")});
  EXPECT_EQ(winner("/"), "nopaths");
  EXPECT_EQ(winner("/anything/at/all"), "nopaths");
  EXPECT_EQ(last_.matched_prefix, "/");
}

TEST_F(RouterTest, LongerPrefixWins) {
  build({route("root", {"/"}), route("api", {"/api"}), route("api-slash", {"/api/"}),
         route("v1", {"/api/v1"})});
  EXPECT_EQ(winner("/api/v1/users"), "v1");
  EXPECT_EQ(winner("/api/v1"), "v1");
  EXPECT_EQ(winner("/api/v2"), "api-slash");
  EXPECT_EQ(winner("/api"), "api");
  EXPECT_EQ(winner("/apiv1"), "root");
}

TEST_F(RouterTest, TemplateCapturesParams) {
  build({route("t", {"/users/{id}/orders/{oid}"})});
  EXPECT_EQ(winner("/users/42/orders/7"), "t");
  ASSERT_EQ(last_.params.size(), 2u);
  EXPECT_EQ(last_.params[0], (std::pair<std::string, std::string>{"id", "42"}));
  EXPECT_EQ(last_.params[1], (std::pair<std::string, std::string>{"oid", "7"}));
  EXPECT_EQ(winner("/users/42/orders"), "");
  EXPECT_EQ(winner("/users/42/orders/7/x"), "");
  EXPECT_EQ(winner("/users/42/orders/"), "");  // a param never matches an empty segment
  EXPECT_EQ(winner("/users//orders/7"), "");
  EXPECT_EQ(winner("/users/42/items/7"), "");
}

TEST_F(RouterTest, TemplateBacktracksFromLiteralToParam) {
  build({route("lit", {"/a/b/{x}"}), route("param", {"/a/{y}/c"})});
  EXPECT_EQ(winner("/a/b/z"), "lit");
  EXPECT_EQ(winner("/a/z/c"), "param");
  EXPECT_EQ(last_.params[0].second, "z");
  // Both match /a/b/c with two literals each: the earlier literal position wins.
  EXPECT_EQ(winner("/a/b/c"), "lit");
}

TEST_F(RouterTest, TemplateWithMoreLiteralsWins) {
  // A literal-first walk alone would pick /a/{x}/{y}; the rule is literal count.
  build({route("one-literal", {"/a/{x}/{y}"}), route("two-literals", {"/{p}/b/c"})});
  EXPECT_EQ(winner("/a/b/c"), "two-literals");
  EXPECT_EQ(last_.params.size(), 1u);
  EXPECT_EQ(last_.params[0].first, "p");
  EXPECT_EQ(winner("/a/q/c"), "one-literal");
  EXPECT_EQ(last_.params.size(), 2u);
}

TEST_F(RouterTest, TemplateFallsBackWhenBestFailsPredicates) {
  auto best = route("best", {"/users/{id}/profile"});
  best.match.methods = {"POST"};
  build({best, route("generic", {"/users/{id}/{section}"})});
  Req r = get("/users/1/profile");
  EXPECT_EQ(winner(r), "generic");
  ASSERT_EQ(last_.params.size(), 2u);
  EXPECT_EQ(last_.params[1].second, "profile");
  r.method = "POST";
  EXPECT_EQ(winner(r), "best");
  ASSERT_EQ(last_.params.size(), 1u);
}

TEST_F(RouterTest, SameTemplateDifferentParamNames) {
  auto a = route("a", {"/u/{id}"});
  a.match.headers = {{"x-a", "*"}};
  build({a, route("b", {"/u/{uid}"})});
  Req r = get("/u/9");
  EXPECT_EQ(winner(r), "b");
  EXPECT_EQ(last_.params[0].first, "uid");
  r.headers = {{"X-A", "1"}};
  EXPECT_EQ(winner(r), "a");
  EXPECT_EQ(last_.params[0].first, "id");
}

TEST_F(RouterTest, RegexIsAFullMatch) {
  build({route("re", {"~/v[0-9]+/items"})});
  EXPECT_EQ(winner("/v12/items"), "re");
  EXPECT_EQ(winner("/v12/items/3"), "");
  EXPECT_EQ(winner("/x/v12/items"), "");
}

TEST_F(RouterTest, RegexOrderIsPriorityThenConfigOrder) {
  auto low = route("low", {"~/r/.*"});
  auto high = route("high", {"~/r/[a-z]+"});
  high.priority = 5;
  build({low, high, route("later", {"~/r/[a-z]+x"})});
  EXPECT_EQ(winner("/r/abc"), "high");
  EXPECT_EQ(winner("/r/abcx"), "high");
  EXPECT_EQ(winner("/r/123"), "low");
  build({route("first", {"~/r/.*"}), route("second", {"~/r/[a-z]+"})});
  EXPECT_EQ(winner("/r/abc"), "first");
}

TEST_F(RouterTest, ManyRegexesUseTheSetFilterAndStayExact) {
  std::vector<RouteConfig> routes;
  for (int i = 0; i < 40; ++i)
    routes.push_back(route("re" + std::to_string(i), {"~/r" + std::to_string(i) + "/[0-9]+"}));
  routes.push_back(route("catchall", {"~/r[0-9]+/.*"}));
  build(routes);
  for (int i = 0; i < 40; ++i)
    EXPECT_EQ(winner("/r" + std::to_string(i) + "/123"), "re" + std::to_string(i));
  EXPECT_EQ(winner("/r7/abc"), "catchall");
  EXPECT_EQ(winner("/q7/123"), "");
}

TEST_F(RouterTest, PathKindPrecedence) {
  auto all =
      std::vector<RouteConfig>{route("prefix", {"/users"}), route("regex", {"~/users/[0-9]+"}),
                               route("template", {"/users/{id}"}), route("exact", {"=/users/42"})};
  build(all);
  EXPECT_EQ(winner("/users/42"), "exact");
  EXPECT_EQ(winner("/users/43"), "template");
  all.pop_back();
  build(all);
  EXPECT_EQ(winner("/users/42"), "template");
  all.pop_back();
  build(all);
  EXPECT_EQ(winner("/users/42"), "regex");
  EXPECT_EQ(winner("/users/abc"), "prefix");
  all.pop_back();
  build(all);
  EXPECT_EQ(winner("/users/42"), "prefix");
}

TEST_F(RouterTest, FallsThroughPathKindsWhenPredicatesFail) {
  auto exact = route("exact", {"=/k/1"});
  exact.match.headers = {{"x-e", "*"}};
  auto templ = route("template", {"/k/{id}"});
  templ.match.headers = {{"x-t", "*"}};
  auto regex = route("regex", {"~/k/[0-9]"});
  regex.match.headers = {{"x-r", "*"}};
  build({exact, templ, regex, route("prefix", {"/k"})});
  Req req = get("/k/1");
  EXPECT_EQ(winner(req), "prefix");
  req.headers = {{"x-r", "1"}};
  EXPECT_EQ(winner(req), "regex");
  req.headers.push_back({"x-t", "1"});
  EXPECT_EQ(winner(req), "template");
  req.headers.push_back({"x-e", "1"});
  EXPECT_EQ(winner(req), "exact");
  EXPECT_TRUE(last_.params.empty());
}

TEST_F(RouterTest, TemplateEdgeShapes) {
  build({route("root-param", {"/{tenant}/home"}), route("trailing", {"/users/{id}/"}),
         route("prefix", {"/users"})});
  EXPECT_EQ(winner("/acme/home"), "root-param");
  EXPECT_EQ(last_.params[0].second, "acme");
  EXPECT_EQ(winner("/users/1/"), "trailing");
  EXPECT_EQ(winner("/users/1"), "prefix");
  EXPECT_TRUE(last_.params.empty());  // captures of a failed template never leak
  EXPECT_EQ(winner("/"), "");
}

TEST_F(RouterTest, NonOriginPathsDoNotCrash) {
  build({route("root", {"/"}), route("t", {"/{x}"}), route("re", {"~.*"})});
  EXPECT_EQ(winner("*"), "re");
  build({route("root", {"/"}), route("t", {"/{x}"})});
  EXPECT_EQ(winner("*"), "");
  EXPECT_EQ(winner(""), "");
}

TEST_F(RouterTest, PriorityDoesNotCrossPathKinds) {
  auto prefix = route("prefix", {"/users"});
  prefix.priority = 100;
  build({prefix, route("exact", {"=/users/1"})});
  EXPECT_EQ(winner("/users/1"), "exact");
}

TEST_F(RouterTest, RouteWithSeveralPathsAndHostsIsIndexedUnderEach) {
  build({route("multi", {"=/a", "/b", "/c/{x}", "~/d[0-9]"}, {"one.test", "*.two.test"})});
  for (const char* host : {"one.test", "x.two.test"}) {
    for (const char* path : {"/a", "/b/1", "/c/z", "/d7"}) {
      EXPECT_EQ(winner(get(path, host)), "multi") << host << path;
    }
  }
  EXPECT_EQ(winner(get("/a", "three.test")), "");
}

// --- hosts -------------------------------------------------------------------

TEST_F(RouterTest, ExactHostIsCaseInsensitive) {
  build({route("h", {"/"}, {"API.Example.com"})});
  EXPECT_EQ(winner(get("/x", "api.example.com")), "h");
  EXPECT_EQ(winner(get("/x", "www.example.com")), "");
  EXPECT_EQ(winner(get("/x", "")), "");
}

TEST_F(RouterTest, WildcardHost) {
  build({route("w", {"/"}, {"*.example.com"})});
  EXPECT_EQ(winner(get("/", "a.example.com")), "w");
  EXPECT_EQ(winner(get("/", "a.b.example.com")), "w");
  EXPECT_EQ(winner(get("/", "example.com")), "");
  EXPECT_EQ(winner(get("/", "badexample.com")), "");
  EXPECT_EQ(winner(get("/", ".example.com")), "");
}

TEST_F(RouterTest, HostGroupPrecedence) {
  build({route("any", {"=/x"}), route("short-wild", {"/"}, {"*.example.com"}),
         route("long-wild", {"/"}, {"*.b.example.com"}),
         route("exact", {"/"}, {"a.b.example.com"})});
  // The host group decides before the path kind: "exact" wins with prefix "/".
  EXPECT_EQ(winner(get("/x", "a.b.example.com")), "exact");
  EXPECT_EQ(winner(get("/x", "c.b.example.com")), "long-wild");
  EXPECT_EQ(winner(get("/x", "c.example.com")), "short-wild");
  EXPECT_EQ(winner(get("/x", "other.test")), "any");
  EXPECT_EQ(winner(get("/y", "other.test")), "");
}

TEST_F(RouterTest, HostGroupWithoutMatchFallsThrough) {
  build({route("exact-host", {"/admin"}, {"api.example.com"}),
         route("wild", {"/public"}, {"*.example.com"}), route("any", {"/"})});
  EXPECT_EQ(winner(get("/admin/x", "api.example.com")), "exact-host");
  EXPECT_EQ(winner(get("/public", "api.example.com")), "wild");
  EXPECT_EQ(winner(get("/other", "api.example.com")), "any");
}

TEST_F(RouterTest, StarHostMeansAnyHost) {
  build({route("star", {"/"}, {"*"})});
  EXPECT_EQ(winner(get("/", "whatever.test")), "star");
}

// --- methods -----------------------------------------------------------------

TEST_F(RouterTest, Methods) {
  auto r = route("getpost", {"/m"});
  r.match.methods = {"GET", "POST"};
  build({r});
  Req req = get("/m");
  EXPECT_EQ(winner(req), "getpost");
  req.method = "POST";
  EXPECT_EQ(winner(req), "getpost");
  req.method = "DELETE";
  EXPECT_EQ(winner(req), "");
  req.method = "HEAD";  // HEAD rides on GET
  EXPECT_EQ(winner(req), "getpost");
}

TEST_F(RouterTest, HeadDoesNotMatchRouteWithoutGet) {
  auto r = route("post", {"/m"});
  r.match.methods = {"POST"};
  build({r});
  Req req = get("/m");
  req.method = "HEAD";
  EXPECT_EQ(winner(req), "");
}

TEST_F(RouterTest, ExplicitHeadRouteBeatsGetOnSamePath) {
  auto g = route("get", {"/m"});
  g.match.methods = {"GET"};
  g.priority = 10;
  auto h = route("head", {"/m"});
  h.match.methods = {"HEAD"};
  build({g, h});
  Req req = get("/m");
  EXPECT_EQ(winner(req), "get");
  req.method = "HEAD";
  EXPECT_EQ(winner(req), "head");
}

// --- header, query and cookie predicates ---------------------------------------

TEST_F(RouterTest, HeaderPredicates) {
  auto exact = route("exact", {"/"});
  exact.match.headers = {{"X-Canary", "1"}};
  auto re = route("re", {"/"});
  re.match.headers = {{"x-version", "~v[0-9]+"}};
  auto present = route("present", {"/"});
  present.match.headers = {{"x-debug", "*"}};
  build({exact, re, present, route("fallback", {"/"})});

  Req req = get("/");
  EXPECT_EQ(winner(req), "fallback");
  req.headers = {{"x-canary", "1"}};
  EXPECT_EQ(winner(req), "exact");
  req.headers = {{"X-CANARY", "2"}, {"x-canary", "1"}};  // any occurrence may match
  EXPECT_EQ(winner(req), "exact");
  req.headers = {{"x-canary", "A"}};
  EXPECT_EQ(winner(req), "fallback");
  req.headers = {{"X-Version", "v12"}};
  EXPECT_EQ(winner(req), "re");
  req.headers = {{"X-Version", "v12beta"}};  // full match only
  EXPECT_EQ(winner(req), "fallback");
  req.headers = {{"x-debug", ""}};
  EXPECT_EQ(winner(req), "present");
}

TEST_F(RouterTest, HeaderValueIsCaseSensitive) {
  auto r = route("r", {"/"});
  r.match.headers = {{"x-env", "Prod"}};
  build({r});
  Req req = get("/");
  req.headers = {{"x-env", "prod"}};
  EXPECT_EQ(winner(req), "");
  req.headers = {{"x-env", "Prod"}};
  EXPECT_EQ(winner(req), "r");
}

TEST_F(RouterTest, QueryPredicates) {
  auto exact = route("exact", {"/"});
  exact.match.query = {{"mode", "a b"}};
  auto re = route("re", {"/"});
  re.match.query = {{"page", "~[0-9]+"}};
  auto present = route("present", {"/"});
  present.match.query = {{"debug", "*"}};
  auto decoded_name = route("decoded-name", {"/"});
  decoded_name.match.query = {{"a&b", "1/2"}};
  build({exact, re, present, decoded_name, route("fallback", {"/"})});

  Req req = get("/");
  req.query = "mode=a+b";
  EXPECT_EQ(winner(req), "exact");
  req.query = "x=1&mode=a%20b";
  EXPECT_EQ(winner(req), "exact");
  req.query = "mode=a%2";  // malformed escape kept literally
  EXPECT_EQ(winner(req), "fallback");
  req.query = "page=12";
  EXPECT_EQ(winner(req), "re");
  req.query = "page=%31%32";
  EXPECT_EQ(winner(req), "re");
  req.query = "page=12a";
  EXPECT_EQ(winner(req), "fallback");
  req.query = "&&debug";
  EXPECT_EQ(winner(req), "present");
  req.query = "debugger=1";
  EXPECT_EQ(winner(req), "fallback");
  req.query = "a%26b=1%2F2";
  EXPECT_EQ(winner(req), "decoded-name");
  req.query = "";
  EXPECT_EQ(winner(req), "fallback");
}

TEST_F(RouterTest, CookiePredicates) {
  auto exact = route("exact", {"/"});
  exact.match.cookies = {{"beta", "yes"}};
  auto re = route("re", {"/"});
  re.match.cookies = {{"uid", "~u[0-9]+"}};
  auto present = route("present", {"/"});
  present.match.cookies = {{"session", "*"}};
  build({exact, re, present, route("fallback", {"/"})});

  Req req = get("/");
  req.headers = {{"Cookie", "a=1; beta=yes; c=3"}};
  EXPECT_EQ(winner(req), "exact");
  req.headers = {{"cookie", "a=1"}, {"Cookie", "beta=\"yes\""}};
  EXPECT_EQ(winner(req), "exact");
  req.headers = {{"Cookie", "Beta=yes"}};  // cookie names are case-sensitive
  EXPECT_EQ(winner(req), "fallback");
  req.headers = {{"Cookie", "uid=u77"}};
  EXPECT_EQ(winner(req), "re");
  req.headers = {{"Cookie", "x=1;session="}};
  EXPECT_EQ(winner(req), "present");
  req.headers = {{"X-Cookie", "beta=yes"}};
  EXPECT_EQ(winner(req), "fallback");
}

TEST_F(RouterTest, AllPredicatesMustHold) {
  auto r = route("r", {"/"});
  r.match.methods = {"GET"};
  r.match.headers = {{"x-a", "1"}};
  r.match.query = {{"q", "2"}};
  r.match.cookies = {{"c", "3"}};
  build({r});
  Req req = get("/");
  req.headers = {{"x-a", "1"}, {"cookie", "c=3"}};
  req.query = "q=2";
  EXPECT_EQ(winner(req), "r");
  req.query = "q=3";
  EXPECT_EQ(winner(req), "");
}

// --- same-key ordering -------------------------------------------------------

TEST_F(RouterTest, MorePredicatesThenPriorityThenOrder) {
  auto plain = route("plain", {"/p"});
  plain.priority = 100;  // priority only breaks ties between equal predicate counts
  auto one = route("one", {"/p"});
  one.match.methods = {"GET"};
  auto two = route("two", {"/p"});
  two.match.methods = {"GET"};
  two.match.headers = {{"x-t", "*"}};
  build({plain, one, two});
  Req req = get("/p");
  EXPECT_EQ(winner(req), "one");
  req.headers = {{"x-t", "1"}};
  EXPECT_EQ(winner(req), "two");
  req.method = "PUT";
  EXPECT_EQ(winner(req), "plain");

  auto a = route("a", {"=/q"});
  auto b = route("b", {"=/q"});
  b.priority = 1;
  auto c = route("c", {"=/q"});
  c.priority = 1;
  build({a, b, c});
  EXPECT_EQ(winner("/q"), "b");  // higher priority, then earlier in config
}

TEST_F(RouterTest, DeterministicUnderShuffle) {
  std::vector<RouteConfig> routes;
  auto add = [&](RouteConfig r, int priority = 0) {
    r.priority = priority;
    r.order = routes.size();
    routes.push_back(std::move(r));
  };
  add(route("root", {"/"}));
  add(route("api", {"/api"}));
  add(route("api2", {"/api"}));
  add(route("api-prio", {"/api"}), 3);
  add(route("api-prio2", {"/api"}), 3);
  add(route("users-t", {"/api/users/{id}"}));
  add(route("users-t2", {"/api/{kind}/{id}"}));
  add(route("users-t3", {"/api/{kind}/7"}));
  add(route("re1", {"~/api/re/.*"}));
  add(route("re2", {"~/api/re/[a-z/]+"}), 1);
  add(route("host-wild", {"/api/h"}, {"*.example.com"}));
  add(route("host-wild2", {"/api/h"}, {"*.example.com"}));
  add(route("host-exact", {"/api/h"}, {"www.example.com"}));

  const std::vector<std::pair<Req, std::string>> cases = {
      {get("/x"), "root"},
      {get("/api/x"), "api-prio"},
      {get("/api/users/7"), "users-t"},   // two literals each: the earlier literal wins
      {get("/api/other/7"), "users-t3"},  // two literals beat one
      {get("/api/users/8"), "users-t"},
      {get("/api/things/8"), "users-t2"},
      {get("/api/re/abc/d"), "re2"},
      {get("/api/re/123/4"), "re1"},
      {get("/api/h", "a.example.com"), "host-wild"},
      {get("/api/h", "www.example.com"), "host-exact"},
  };
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    auto shuffled = routes;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto r = Router::build(std::move(shuffled));
    ASSERT_TRUE(r.ok());
    for (const auto& [req, want] : cases) {
      RouteMatch m;
      ASSERT_TRUE((*r)->match(req.view(), m)) << req.path;
      EXPECT_EQ(m.route->name, want) << "round " << round << " " << req.host << req.path;
    }
  }
}

// The worked example in docs/routing.md; keep the two in step.
TEST_F(RouterTest, DocsWorkedExample) {
  auto user = route("user", {"/users/{id}"});
  user.match.methods = {"GET"};
  auto canary = route("user-canary", {"/users/{id}"});
  canary.match.methods = {"GET"};
  canary.match.headers = {{"x-canary", "1"}};
  build({route("health", {"=/healthz"}), user, route("user-orders", {"/users/{id}/orders"}), canary,
         route("versioned", {"~/v[0-9]+/.*"}), route("api", {"/api"}), route("catch-all", {"/"}),
         route("tenant", {"/"}, {"*.example.com"}),
         route("admin", {"/admin"}, {"admin.example.com"})});
  auto with = [](std::string method, std::string path, std::string host = "any.test") {
    Req r = get(std::move(path), std::move(host));
    r.method = std::move(method);
    return r;
  };
  EXPECT_EQ(winner(with("GET", "/healthz")), "health");
  EXPECT_EQ(winner(with("GET", "/users/7")), "user");
  Req c = with("GET", "/users/7");
  c.headers = {{"X-Canary", "1"}};
  EXPECT_EQ(winner(c), "user-canary");
  EXPECT_EQ(winner(with("POST", "/users/7")), "catch-all");
  EXPECT_EQ(winner(with("HEAD", "/users/7")), "user");
  EXPECT_EQ(winner(with("GET", "/users/7/orders")), "user-orders");
  EXPECT_EQ(winner(with("GET", "/v2/things")), "versioned");
  EXPECT_EQ(winner(with("GET", "/api/v2/things")), "api");
  EXPECT_EQ(winner(with("GET", "/admin/users", "admin.example.com")), "admin");
  EXPECT_EQ(winner(with("GET", "/users/7", "admin.example.com")), "tenant");
  EXPECT_EQ(winner(with("GET", "/users/7", "example.com")), "user");
}

// --- errors ------------------------------------------------------------------

}  // namespace
}  // namespace gatehouse::proxy
