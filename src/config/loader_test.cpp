#include "config/loader.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(ConfigLoader, FullExampleLoadsEveryField) {
  auto r = load(kFullExample);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = r.config;

  EXPECT_EQ(c.server.listeners.proxy, "0.0.0.0:8080");
  EXPECT_EQ(c.server.listeners.admin, "127.0.0.1:9080");
  EXPECT_EQ(c.server.http.max_request_line, 8u * 1024);
  EXPECT_EQ(c.server.http.max_header_bytes, 64u * 1024);
  EXPECT_EQ(c.server.http.max_headers, 100u);
  EXPECT_EQ(c.server.http.client_header_timeout_ms, 30'000);
  EXPECT_EQ(c.server.http.client_idle_timeout_ms, 60'000);
  EXPECT_EQ(c.server.http.max_pipelined, 16u);
  EXPECT_TRUE(c.server.access_log.enabled);
  EXPECT_EQ(c.server.access_log.path, "-");
  EXPECT_EQ(c.server.drain_timeout_ms, 15'000);
  EXPECT_FALSE(c.server.trust_forwarded);

  ASSERT_EQ(c.upstreams.size(), 1u);
  const auto& u = c.upstreams[0];
  EXPECT_EQ(u.name, "users");
  EXPECT_EQ(u.pos.file, kFile);
  EXPECT_EQ(u.pos.line, 7);
  EXPECT_EQ(u.pos.column, 5);
  ASSERT_EQ(u.targets.size(), 1u);
  EXPECT_EQ(u.targets[0].address, "127.0.0.1:9001");
  EXPECT_EQ(u.targets[0].host, "127.0.0.1");
  EXPECT_EQ(u.targets[0].port, 9001);
  EXPECT_EQ(u.targets[0].weight, 1u);
  EXPECT_EQ(u.balancer.kind, BalancerKind::kRoundRobin);
  EXPECT_EQ(u.timeouts.connect_ms, 5'000);
  EXPECT_EQ(u.timeouts.request_ms, 60'000);
  EXPECT_EQ(u.timeouts.idle_ms, 60'000);
  EXPECT_EQ(u.retries.attempts, 1);
  EXPECT_EQ(u.retries.per_try_timeout_ms, 0);
  EXPECT_EQ(u.retries.backoff_base_ms, 25);
  EXPECT_EQ(u.retries.backoff_max_ms, 250);
  EXPECT_EQ(u.retries.on_statuses, (std::vector<int>{502, 503, 504}));
  EXPECT_DOUBLE_EQ(u.retries.budget_percent, 20.0);
  EXPECT_EQ(u.retries.min_retry_concurrency, 3);
  EXPECT_TRUE(u.health_active.enabled);
  EXPECT_EQ(u.health_active.path, "/healthz");
  EXPECT_EQ(u.health_active.host, "");
  EXPECT_EQ(u.health_active.interval_ms, 5'000);
  EXPECT_EQ(u.health_active.timeout_ms, 1'000);
  EXPECT_EQ(u.health_active.healthy_threshold, 2);
  EXPECT_EQ(u.health_active.unhealthy_threshold, 3);
  EXPECT_EQ(u.health_active.healthy_statuses, (std::vector<int>{200}));
  EXPECT_TRUE(u.health_passive.enabled);
  EXPECT_EQ(u.health_passive.consecutive_5xx, 5);
  EXPECT_EQ(u.health_passive.consecutive_connect_failures, 3);
  EXPECT_EQ(u.health_passive.base_ejection_ms, 30'000);
  EXPECT_EQ(u.health_passive.max_ejection_ms, 300'000);
  EXPECT_DOUBLE_EQ(u.health_passive.max_ejection_percent, 50.0);
  EXPECT_EQ(u.pool.max_idle_per_target, 64);
  EXPECT_EQ(u.pool.idle_timeout_ms, 60'000);
  EXPECT_EQ(u.pool.max_requests_per_connection, 0);
  EXPECT_EQ(u.breaker.max_connections, 10'000);
  EXPECT_EQ(u.breaker.max_pending, 1'000);
  EXPECT_EQ(u.breaker.max_requests, 10'000);
  EXPECT_EQ(u.dns_refresh_ms, 30'000);
  EXPECT_EQ(u.tags, (std::vector<std::string>{"team-a"}));

  ASSERT_EQ(c.routes.size(), 1u);
  const auto& rt = c.routes[0];
  EXPECT_EQ(rt.name, "user-info");
  EXPECT_EQ(rt.order, 0u);
  EXPECT_EQ(rt.pos.line, 20);
  EXPECT_EQ(rt.pos.column, 5);
  ASSERT_EQ(rt.match.paths.size(), 1u);
  EXPECT_EQ(rt.match.paths[0].kind, PathKind::kPrefix);
  EXPECT_EQ(rt.match.paths[0].value, "/v2/user/info");
  EXPECT_EQ(rt.match.methods, (std::vector<std::string>{"GET"}));
  EXPECT_EQ(rt.match.hosts, (std::vector<std::string>{"api.example.com", "*.example.com"}));
  ASSERT_EQ(rt.match.headers.size(), 1u);
  EXPECT_EQ(rt.match.headers[0].name, "x-canary");
  EXPECT_EQ(rt.match.headers[0].value, "1");
  ASSERT_EQ(rt.match.query.size(), 1u);
  EXPECT_EQ(rt.match.query[0].name, "debug");
  EXPECT_EQ(rt.match.query[0].value, "*");
  ASSERT_EQ(rt.match.cookies.size(), 1u);
  EXPECT_EQ(rt.match.cookies[0].name, "session");
  EXPECT_EQ(rt.match.cookies[0].value, "~[a-z]+");
  EXPECT_EQ(rt.priority, 0);
  EXPECT_EQ(rt.upstream, "users");
  EXPECT_FALSE(rt.rewrite.strip_prefix);
  EXPECT_EQ(rt.rewrite.regex, "^/v2/(.*)$");
  EXPECT_EQ(rt.rewrite.replacement, "/\\1");
  EXPECT_EQ(rt.rewrite.path_prefix, "");
  EXPECT_EQ(rt.rewrite.host, "");
  EXPECT_FALSE(rt.rewrite.preserve_host);
  ASSERT_TRUE(rt.timeouts.has_value());
  EXPECT_EQ(rt.timeouts->connect_ms, 1'000);
  EXPECT_EQ(rt.timeouts->request_ms, 10'000);
  EXPECT_EQ(rt.timeouts->idle_ms, 30'000);
  ASSERT_EQ(rt.policies.size(), 2u);
  EXPECT_EQ(rt.policies[0].name, "key-auth");
  EXPECT_EQ(rt.policies[0].config_yaml, "");
  EXPECT_EQ(rt.policies[0].pos.line, 26);
  EXPECT_EQ(rt.policies[1].name, "rate-limit");
  YAML::Node rl = YAML::Load(rt.policies[1].config_yaml);
  EXPECT_EQ(rl["requests"].as<int>(), 5);
  EXPECT_EQ(rl["window"].as<std::string>(), "1s");
  EXPECT_TRUE(rt.tags.empty());

  ASSERT_EQ(c.consumers.size(), 1u);
  const auto& a = c.consumers[0];
  EXPECT_EQ(a.name, "alice");
  EXPECT_EQ(a.groups, (std::vector<std::string>{"gold"}));
  ASSERT_EQ(a.credentials.size(), 1u);
  EXPECT_EQ(a.credentials[0].at("type"), "key-auth");
  EXPECT_EQ(a.credentials[0].at("key"), "alice-key");
  EXPECT_TRUE(a.tags.empty());
  EXPECT_EQ(a.pos.line, 29);

  ASSERT_EQ(c.policies.size(), 1u);
  EXPECT_EQ(c.policies[0].name, "cors");
  YAML::Node cors = YAML::Load(c.policies[0].config_yaml);
  ASSERT_TRUE(cors["origins"].IsSequence());
  EXPECT_EQ(cors["origins"][0].as<std::string>(), "https://app.example.com");
}

TEST(ConfigLoader, MinimalShapeLoadsWithDefaults) {
  auto r = load(kMinimal);
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = r.config;
  EXPECT_EQ(c.server.listeners.proxy, "0.0.0.0:8080");
  EXPECT_EQ(c.server.http.max_headers, 100u);
  EXPECT_EQ(c.server.drain_timeout_ms, 15'000);
  ASSERT_EQ(c.upstreams.size(), 1u);
  const auto& u = c.upstreams[0];
  EXPECT_EQ(u.balancer.kind, BalancerKind::kRoundRobin);
  EXPECT_FALSE(u.health_active.enabled);
  EXPECT_TRUE(u.health_passive.enabled);
  EXPECT_EQ(u.retries.on_statuses, (std::vector<int>{502, 503, 504}));
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_FALSE(c.routes[0].timeouts.has_value());
  EXPECT_EQ(c.routes[0].match.methods, (std::vector<std::string>{"GET"}));
  EXPECT_TRUE(c.consumers.empty());
  EXPECT_TRUE(c.policies.empty());
}

TEST(ConfigLoader, EmptyDocumentIsAValidEmptyConfig) {
  for (const char* text : {"", "# nothing yet\n", "---\n"}) {
    auto r = load(text);
    EXPECT_TRUE(r.ok()) << text << dump(r);
    EXPECT_TRUE(r.config.upstreams.empty());
    EXPECT_TRUE(r.config.routes.empty());
  }
}

TEST(ConfigLoader, TargetsAcceptStringsAndIpv6AndNames) {
  auto r =
      load(with_upstream("    targets:\n"
                         "      - \"10.0.0.1:80\"\n"
                         "      - {address: \"[::1]:8443\", weight: 0}\n"
                         "      - {address: \"users.internal.svc:9000\", weight: 1000}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& t = r.config.upstreams[0].targets;
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].host, "10.0.0.1");
  EXPECT_EQ(t[0].port, 80);
  EXPECT_EQ(t[0].weight, 1u);
  EXPECT_EQ(t[1].address, "[::1]:8443");
  EXPECT_EQ(t[1].host, "::1");
  EXPECT_EQ(t[1].port, 8443);
  EXPECT_EQ(t[1].weight, 0u);
  EXPECT_EQ(t[2].host, "users.internal.svc");
  EXPECT_EQ(t[2].weight, 1000u);
}

TEST(ConfigLoader, ConsistentHashBalancer) {
  auto r =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    balancer: {kind: consistent-hash, hash_on: header, key: X-User}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& b = r.config.upstreams[0].balancer;
  EXPECT_EQ(b.kind, BalancerKind::kConsistentHash);
  EXPECT_EQ(b.hash_on, HashOn::kHeader);
  EXPECT_EQ(b.hash_key, "x-user");  // header names are case-insensitive

  auto cookie =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    balancer: {kind: consistent-hash, hash_on: cookie, key: Session}\n"));
  ASSERT_TRUE(cookie.ok()) << dump(cookie);
  EXPECT_EQ(cookie.config.upstreams[0].balancer.hash_key, "Session");

  for (const char* kind : {"least-request", "ewma"}) {
    auto k = load(
        with_upstream("    targets: [\"10.0.0.1:80\"]\n    balancer: " + std::string(kind) + "\n"));
    ASSERT_TRUE(k.ok()) << dump(k);
  }
}

TEST(ConfigLoader, PathKindsAreClassified) {
  auto r = load(with_route(
      "    match:\n"
      "      paths: [\"=/exact\", \"/users/{id}/posts/{post_id}\", \"~^/v[0-9]+/.*$\", \"/\", "
      "\"/api/\"]\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& p = r.config.routes[0].match.paths;
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].kind, PathKind::kExact);
  EXPECT_EQ(p[0].value, "/exact");
  EXPECT_EQ(p[1].kind, PathKind::kTemplate);
  EXPECT_EQ(p[1].value, "/users/{id}/posts/{post_id}");
  EXPECT_EQ(p[2].kind, PathKind::kRegex);
  EXPECT_EQ(p[2].value, "^/v[0-9]+/.*$");
  EXPECT_EQ(p[3].kind, PathKind::kPrefix);
  EXPECT_EQ(p[4].kind, PathKind::kPrefix);
}

TEST(ConfigLoader, MethodsUpperCasedHostsAndHeaderNamesLowerCased) {
  auto r = load(
      with_route("    match:\n"
                 "      methods: [get, Post, PURGE]\n"
                 "      hosts: [API.Example.COM, \"*.Example.com\", \"[::1]\", 10.0.0.1, \"*\"]\n"
                 "      headers: {X-Canary: \"1\"}\n"
                 "      query: {Debug: \"*\"}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& m = r.config.routes[0].match;
  EXPECT_EQ(m.methods, (std::vector<std::string>{"GET", "POST", "PURGE"}));
  EXPECT_EQ(m.hosts, (std::vector<std::string>{"api.example.com", "*.example.com", "[::1]",
                                               "10.0.0.1", "*"}));
  EXPECT_EQ(m.headers[0].name, "x-canary");
  EXPECT_EQ(m.query[0].name, "Debug");  // query names are case-sensitive
}

TEST(ConfigLoader, RouteOrderIsFilePosition) {
  auto r = load(with_route("  - {name: b, upstream: users}\n  - {name: c, upstream: users}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.config.routes.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.config.routes[i].order, i);
  EXPECT_EQ(r.config.routes[2].name, "c");
  EXPECT_EQ(r.config.routes[2].pos.line, 8);
}

TEST(ConfigLoader, RouteTimeoutsInheritUnsetFieldsFromUpstream) {
  auto r = load(
      "upstreams:\n"
      "  - name: users\n"
      "    targets: [\"127.0.0.1:9001\"]\n"
      "    timeouts: {connect: 2s, request: 20s, idle: 90s}\n"
      "routes:\n"
      "  - name: r\n"
      "    upstream: users\n"
      "    timeouts: {request: 3s}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& t = *r.config.routes[0].timeouts;
  EXPECT_EQ(t.connect_ms, 2'000);
  EXPECT_EQ(t.request_ms, 3'000);
  EXPECT_EQ(t.idle_ms, 90'000);
}

TEST(ConfigLoader, DurationsAcceptBareMilliseconds) {
  auto r =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    timeouts: {connect: 250, request: 2m, idle: 1h}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& t = r.config.upstreams[0].timeouts;
  EXPECT_EQ(t.connect_ms, 250);
  EXPECT_EQ(t.request_ms, 120'000);
  EXPECT_EQ(t.idle_ms, 3'600'000);
}

TEST(ConfigLoader, ActiveHealthCheckEnabledByPresence) {
  auto r =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    health_checks: {active: {}}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.config.upstreams[0].health_active.enabled);
  EXPECT_EQ(r.config.upstreams[0].health_active.path, "/");

  auto off =
      load(with_upstream("    targets: [\"10.0.0.1:80\"]\n"
                         "    health_checks: {active: {enabled: false, path: /hc}}\n"));
  ASSERT_TRUE(off.ok()) << dump(off);
  EXPECT_FALSE(off.config.upstreams[0].health_active.enabled);
}

TEST(ConfigLoader, PolicyConfigIsReEmittedFaithfully) {
  EnvGuard secret("GH_TEST_SECRET", "s3cr3t");
  auto r =
      load(with_route("    policies:\n"
                      "      - key-auth\n"
                      "      - name: jwt\n"
                      "        config:\n"
                      "          secret: ${GH_TEST_SECRET}\n"
                      "          port: \"8080\"\n"
                      "          count: 5\n"
                      "          nested: {list: [a, \"b: c\", 3], empty: {}, nothing: null}\n"));
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& p = r.config.routes[0].policies;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].name, "key-auth");
  EXPECT_EQ(p[0].config_yaml, "");
  EXPECT_EQ(p[1].name, "jwt");
  YAML::Node n = YAML::Load(p[1].config_yaml);
  EXPECT_EQ(n["secret"].as<std::string>(), "s3cr3t");
  EXPECT_EQ(n["port"].Tag(), "!");  // stayed a quoted string
  EXPECT_EQ(n["port"].as<std::string>(), "8080");
  EXPECT_EQ(n["count"].as<int>(), 5);
  EXPECT_EQ(n["nested"]["list"][1].as<std::string>(), "b: c");
  EXPECT_EQ(n["nested"]["list"][2].as<int>(), 3);
  EXPECT_TRUE(n["nested"]["empty"].IsMap());
  EXPECT_TRUE(n["nested"]["nothing"].IsNull());
}

TEST(ConfigLoader, MergeKeysAreApplied) {
  auto r = load(
      "upstreams:\n"
      "  - &base\n"
      "    name: a\n"
      "    targets: [\"10.0.0.1:80\"]\n"
      "    timeouts: {connect: 2s}\n"
      "  - <<: *base\n"
      "    name: b\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  ASSERT_EQ(r.config.upstreams.size(), 2u);
  EXPECT_EQ(r.config.upstreams[1].name, "b");
  EXPECT_EQ(r.config.upstreams[1].timeouts.connect_ms, 2'000);
  EXPECT_EQ(r.config.upstreams[1].targets.size(), 1u);
}

TEST(ConfigLoader, TopLevelExtensionKeysHoldAnchors) {
  auto r = load(
      "x-timeouts: &fast {connect: 1s, request: 2s}\n"
      "upstreams:\n"
      "  - {name: a, targets: [\"10.0.0.1:80\"], timeouts: *fast}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.upstreams[0].timeouts.request_ms, 2'000);

  auto nested = load("upstreams:\n  - {name: a, targets: [\"10.0.0.1:80\"], x-note: hi}\n");
  expect_only_error(nested, "unknown_field", "upstreams[0].x-note", 2, 41);
}

// ---------------------------------------------------------------- environment

TEST(ConfigEnv, ExpandsVariablesAndDefaults) {
  EnvGuard host("GH_TEST_HOST", "10.1.2.3");
  EnvGuard empty("GH_TEST_EMPTY", "");
  EnvGuard unset("GH_TEST_UNSET", nullptr);
  auto r = load(
      "upstreams:\n"
      "  - name: ${GH_TEST_UNSET:-users}\n"
      "    targets: [\"${GH_TEST_HOST}:${GH_TEST_UNSET:-9001}\"]\n"
      "    tags: [\"${GH_TEST_EMPTY:-fallback}\", \"x${GH_TEST_EMPTY}y\", \"$${GH_TEST_HOST}\", "
      "\"a$b$\"]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& u = r.config.upstreams[0];
  EXPECT_EQ(u.name, "users");
  EXPECT_EQ(u.targets[0].address, "10.1.2.3:9001");
  EXPECT_EQ(u.targets[0].port, 9001);
  EXPECT_EQ(u.tags, (std::vector<std::string>{"fallback", "xy", "${GH_TEST_HOST}", "a$b$"}));
}

TEST(ConfigEnv, ExpandsInsideNumbersAndCredentials) {
  EnvGuard weight("GH_TEST_WEIGHT", "7");
  EnvGuard key("GH_TEST_KEY", "k-123");
  auto r = load(
      "upstreams:\n"
      "  - name: u\n"
      "    targets: [{address: \"10.0.0.1:80\", weight: \"${GH_TEST_WEIGHT}\"}]\n"
      "consumers:\n"
      "  - name: c\n"
      "    credentials: [{type: key-auth, key: \"${GH_TEST_KEY}\"}]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.upstreams[0].targets[0].weight, 7u);
  EXPECT_EQ(r.config.consumers[0].credentials[0].at("key"), "k-123");
}

}  // namespace
}  // namespace gatehouse::config
