#include "proxy/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::proxy {
namespace {

using config::PathKind;
using config::PathPattern;
using config::RouteConfig;
using config::ValueMatch;

// Parses the YAML path syntax the way the config loader does.
PathPattern pat(std::string_view s) {
  if (!s.empty() && s.front() == '=') return {PathKind::kExact, std::string(s.substr(1))};
  if (!s.empty() && s.front() == '~') return {PathKind::kRegex, std::string(s.substr(1))};
  if (s.find('{') != std::string_view::npos) return {PathKind::kTemplate, std::string(s)};
  return {PathKind::kPrefix, std::string(s)};
}

RouteConfig route(std::string name, std::vector<std::string> paths = {},
                  std::vector<std::string> hosts = {}) {
  RouteConfig r;
  r.name = std::move(name);
  for (const auto& p : paths) r.match.paths.push_back(pat(p));
  r.match.hosts = std::move(hosts);
  return r;
}

struct Req {
  std::string method = "GET";
  std::string host = "any.test";
  std::string path = "/";
  std::string query;
  std::vector<http1::Header> headers;

  RequestView view() const { return RequestView{method, host, path, query, &headers}; }
};

Req get(std::string path, std::string host = "any.test") {
  Req r;
  r.path = std::move(path);
  r.host = std::move(host);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void build(std::vector<RouteConfig> routes) {
    for (size_t i = 0; i < routes.size(); ++i) routes[i].order = i;
    auto r = Router::build(std::move(routes));
    ASSERT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
    router_ = std::move(r).value();
  }

  // Name of the winning route, "" when nothing matches.
  std::string winner(const Req& req) {
    last_ = RouteMatch{};
    if (!router_->match(req.view(), last_)) return "";
    EXPECT_EQ(last_.route, &router_->routes()[last_.route_index]);
    return last_.route->name;
  }
  std::string winner(std::string path) { return winner(get(std::move(path))); }

  std::unique_ptr<Router> router_;
  RouteMatch last_;
};

// --- paths -------------------------------------------------------------------

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
