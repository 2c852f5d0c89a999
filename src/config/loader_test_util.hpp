// Shared helpers of the loader_test test files.
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"

namespace gatehouse::config {
namespace loader_test_util {

constexpr const char* kFile = "gatehouse.yaml";

// The full example from docs/configuration.md, every key written.
constexpr const char* kFullExample =
    R"yaml(listeners: {proxy: "0.0.0.0:8080", admin: "127.0.0.1:9080"}
http: {max_request_line: 8k, max_header_bytes: 64k, max_headers: 100, client_header_timeout: 30s, client_idle_timeout: 60s, max_pipelined: 16}
access_log: {enabled: true, path: "-"}
drain_timeout: 15s
trust_forwarded: false
upstreams:
  - name: users
    targets: [{address: "127.0.0.1:9001", weight: 1}]
    balancer: round-robin
    timeouts: {connect: 5s, request: 60s, idle: 60s}
    retries: {attempts: 1, per_try_timeout: 0, backoff_base: 25ms, backoff_max: 250ms, on_statuses: [502,503,504], budget_percent: 20, min_retry_concurrency: 3}
    health_checks:
      active: {path: /healthz, host: "", interval: 5s, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 3, healthy_statuses: [200]}
      passive: {enabled: true, consecutive_5xx: 5, consecutive_connect_failures: 3, base_ejection: 30s, max_ejection: 300s, max_ejection_percent: 50}
    pool: {max_idle_per_target: 64, idle_timeout: 60s, max_requests_per_connection: 0}
    circuit_breaker: {max_connections: 10000, max_pending: 1000, max_requests: 10000}
    dns_refresh: 30s
    tags: [team-a]
routes:
  - name: user-info
    match: {paths: ["/v2/user/info"], methods: [GET], hosts: ["api.example.com", "*.example.com"], headers: {x-canary: "1"}, query: {debug: "*"}, cookies: {session: "~[a-z]+"}}
    priority: 0
    upstream: users
    rewrite: {strip_prefix: false, regex: "^/v2/(.*)$", replacement: "/\\1", path_prefix: "", host: "", preserve_host: false}
    timeouts: {connect: 1s, request: 10s, idle: 30s}
    policies: [{name: key-auth}, {name: rate-limit, config: {requests: 5, window: 1s}}]
    tags: []
consumers:
  - {name: alice, groups: [gold], credentials: [{type: key-auth, key: "alice-key"}], tags: []}
policies: [{name: cors, config: {origins: ["https://app.example.com"]}}]
)yaml";

constexpr const char* kMinimal = R"yaml(upstreams:
  - name: users
    targets: [{address: "127.0.0.1:9001", weight: 1}]
routes:
  - name: user-info
    match: {paths: ["/v2/user/info"], methods: [GET]}
    upstream: users
)yaml";

inline LoadResult load(const std::string& yaml) {
  return load_config_text(yaml, kFile);
}

inline std::string dump(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += "  [" + e.code + "] " + e.to_string() + "\n";
  return out;
}

// Exactly one error, with this code, field and 1-based position.
inline void expect_only_error(const LoadResult& r, const std::string& code,
                              const std::string& field, int line, int column) {
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  const auto& e = r.errors[0];
  EXPECT_EQ(e.code, code) << dump(r);
  EXPECT_EQ(e.field, field) << dump(r);
  EXPECT_EQ(e.pos.file, kFile);
  EXPECT_EQ(e.pos.line, line) << dump(r);
  EXPECT_EQ(e.pos.column, column) << dump(r);
}

// Wraps a route body in a valid document so a test can focus on one field.
// The route's first line ("  - name: r") is line 5.
inline std::string with_route(const std::string& route_lines) {
  return "upstreams:\n"
         "  - name: users\n"
         "    targets: [\"127.0.0.1:9001\"]\n"
         "routes:\n"
         "  - name: r\n"
         "    upstream: users\n" +
         route_lines;
}

// Wraps upstream lines; the upstream's first line ("  - name: u") is line 2.
inline std::string with_upstream(const std::string& upstream_lines) {
  return "upstreams:\n"
         "  - name: u\n" +
         upstream_lines;
}

class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~EnvGuard() { unsetenv(name_); }

 private:
  const char* name_;
};

// ---------------------------------------------------------------- valid input

}  // namespace loader_test_util
using namespace loader_test_util;
}  // namespace gatehouse::config
