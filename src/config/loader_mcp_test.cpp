// mcp: servers, origins, session key and MCP routes.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(McpConfig, ParsesTheIssueShape) {
  auto r = load(R"yaml(mcp:
  servers:
    - {name: everything, transport: stdio, command: ["node", "x.js", "stdio"], env: {A: "1"}, cwd: /tmp}
    - {name: remote, transport: streamable-http, url: "http://127.0.0.1:3001/mcp", headers: {x-k: v}, timeout: 5s}
  allowed_origins: ["http://localhost:3000"]
  session_secret: "0123456789abcdef0123456789abcdef"
  session_ttl: 1h
routes:
  - name: tools
    match: {paths: ["/mcp"]}
    mcp: {servers: [everything, remote], prefix: always, tools: {deny: ["get-env"], allow: ["*"]}, page_size: 5}
)yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& m = r.config.mcp;
  ASSERT_EQ(m.servers.size(), 2u);
  EXPECT_EQ(m.servers[0].transport, McpTransport::kStdio);
  EXPECT_EQ(m.servers[0].command.size(), 3u);
  EXPECT_EQ(m.servers[0].env[0].first, "A");
  EXPECT_EQ(m.servers[0].cwd, "/tmp");
  EXPECT_EQ(m.servers[1].transport, McpTransport::kStreamableHttp);
  EXPECT_EQ(m.servers[1].timeout_ms, 5000);
  EXPECT_EQ(m.servers[1].headers[0].second, "v");
  EXPECT_EQ(m.allowed_origins.size(), 1u);
  EXPECT_EQ(m.session_ttl_ms, 3'600'000);
  ASSERT_TRUE(r.config.routes[0].mcp);
  const auto& rm = *r.config.routes[0].mcp;
  EXPECT_EQ(rm.prefix, McpPrefix::kAlways);
  EXPECT_EQ(rm.tools_deny, std::vector<std::string>{"get-env"});
  EXPECT_EQ(rm.page_size, 5u);
}

TEST(McpConfig, OpenApiServers) {
  // Whether the API or spec exists is checked when the snapshot is built.
  auto ok = load(R"yaml(mcp:
  servers:
    - {name: petstore, openapi: {api: petstore}}
    - {name: picked, openapi: {spec: pets, operations: [getPet]}}
)yaml");
  ASSERT_TRUE(ok.ok()) << ok.errors[0].to_string();
  EXPECT_EQ(ok.config.mcp.servers[1].openapi_spec, "pets");
  EXPECT_EQ(ok.config.mcp.servers[1].openapi_operations, std::vector<std::string>{"getPet"});
  auto neither = load(R"yaml(mcp:
  servers:
    - {name: petstore, openapi: {operations: [a]}}
)yaml");
  expect_only_error(neither, "missing_field", "mcp.servers[0].openapi", 3, 33);
  auto both = load(R"yaml(mcp:
  servers:
    - {name: petstore, openapi: {api: a, spec: b}}
)yaml");
  expect_only_error(both, "conflicting_fields", "mcp.servers[0].openapi", 3, 33);
  // Calls go through the gateway route serving the API: no upstream of its own.
  auto upstream = load(R"yaml(mcp:
  servers:
    - {name: petstore, openapi: {api: a, upstream: nope}}
)yaml");
  ASSERT_EQ(upstream.errors.size(), 1u);
  EXPECT_EQ(upstream.errors[0].code, "removed_field");
  EXPECT_EQ(upstream.errors[0].field, "mcp.servers[0].openapi.upstream");
  EXPECT_EQ(upstream.errors[0].pos.line, 3);
}

TEST(McpConfig, StdioClientCapabilities) {
  auto ok = load(R"yaml(mcp:
  servers:
    - {name: e, transport: stdio, command: [x], client_capabilities: [sampling, roots]}
    - {name: o, transport: sse, url: "http://127.0.0.1:3002/sse"}
)yaml");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  EXPECT_EQ(ok.config.mcp.servers[0].client_capabilities,
            (std::vector<std::string>{"sampling", "roots"}));
  EXPECT_EQ(ok.config.mcp.servers[1].transport, McpTransport::kSse);
  auto bad = load(R"yaml(mcp:
  servers:
    - {name: e, transport: stdio, command: [x], client_capabilities: [sampling, tasks]}
    - {name: h, url: "http://127.0.0.1:3001/mcp", client_capabilities: [roots]}
)yaml");
  ASSERT_EQ(bad.errors.size(), 2u) << dump(bad);
  EXPECT_EQ(bad.errors[0].field, "mcp.servers[0].client_capabilities[1]");
  EXPECT_EQ(bad.errors[0].code, "invalid_value");
  EXPECT_EQ(bad.errors[0].pos.line, 3);
  EXPECT_EQ(bad.errors[1].field, "mcp.servers[1].client_capabilities");
  EXPECT_EQ(bad.errors[1].code, "conflicting_fields");
}

TEST(McpConfig, HttpsServersAreAccepted) {
  auto r = load(R"yaml(mcp:
  servers:
    - {name: h, transport: streamable-http, url: "https://mcp.example.com/mcp"}
    - {name: s, transport: sse, url: "https://mcp.example.com:8443/sse"}
)yaml");
  EXPECT_TRUE(r.errors.empty()) << dump(r);
}

TEST(McpConfig, PreciseErrors) {
  auto r = load(R"yaml(mcp:
  servers:
    - {name: a_b, transport: stdio}
    - {name: h, transport: streamable-http, url: "ftp://x/mcp"}
    - {name: h, transport: stdoi, command: [x]}
  allowed_origins: ["http://x/path"]
  session_secret: short
routes:
  - {name: t, mcp: {servers: [h, hh, h], prefix: sometimes}}
)yaml");
  // Errors come sorted by position.
  ASSERT_EQ(r.errors.size(), 10u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "mcp.servers[0].command");
  EXPECT_EQ(r.errors[0].code, "missing_field");
  EXPECT_EQ(r.errors[1].field, "mcp.servers[0].name");
  EXPECT_EQ(r.errors[1].pos.line, 3);
  EXPECT_EQ(r.errors[2].code, "invalid_value");
  EXPECT_EQ(r.errors[2].field, "mcp.servers[1].url");
  EXPECT_EQ(r.errors[3].code, "duplicate_name");
  EXPECT_EQ(r.errors[4].field, "mcp.servers[2].transport");
  EXPECT_NE(r.errors[4].message.find("did you mean \"stdio\""), std::string::npos);
  EXPECT_EQ(r.errors[5].field, "mcp.allowed_origins[0]");
  EXPECT_EQ(r.errors[5].pos.line, 6);
  EXPECT_EQ(r.errors[6].field, "mcp.session_secret");
  EXPECT_EQ(r.errors[7].field, "routes[0].mcp.servers[1]");
  EXPECT_EQ(r.errors[7].code, "unknown_mcp_server");
  EXPECT_EQ(r.errors[8].code, "duplicate_value");
  EXPECT_EQ(r.errors[9].field, "routes[0].mcp.prefix");
}

TEST(McpConfig, RouteHasOneKind) {
  auto r = load(R"yaml(upstreams:
  - {name: u, targets: ["127.0.0.1:1"]}
mcp:
  servers: [{name: s, command: [x]}]
routes:
  - {name: t, upstream: u, mcp: {servers: [s]}}
)yaml");
  expect_only_error(r, "conflicting_fields", "routes[0].upstream", 6, 25);
}

TEST(McpConfig, Authorization) {
  auto ok = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      authorization:
        resource: "https://gw.example.com/mcp"
        authorization_servers: ["https://idp.example.com"]
        scopes: ["mcp:tools"]
    policies: [{name: jwt, config: {keys: [{kid: k, algorithm: HS256, secret: "0123456789abcdef0123456789abcdef"}]}}]
)yaml");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  const auto& a = *ok.config.routes[0].mcp->authorization;
  EXPECT_EQ(a.resource, "https://gw.example.com/mcp");
  EXPECT_EQ(a.authorization_servers, std::vector<std::string>{"https://idp.example.com"});
  EXPECT_EQ(a.scopes, std::vector<std::string>{"mcp:tools"});

  auto bad = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      authorization: {resource: "gw/mcp", scopes: ["a b"]}
  - name: u
    match: {paths: ["/u"]}
    mcp:
      servers: [s]
      authorization: {resource: "https://gw/mcp", authorization_servers: ["https://i"]}
    policies: [{name: jwt, config: {keys: [{kid: k, algorithm: HS256, secret: "0123456789abcdef0123456789abcdef"}]}}]
  - name: v
    match: {paths: ["/v"]}
    mcp:
      servers: [s]
      authorization: {resource: "https://gw2/mcp/", authorization_servers: ["https://i"]}
    policies: [{name: jwt, config: {keys: [{kid: k, algorithm: HS256, secret: "0123456789abcdef0123456789abcdef"}]}}]
)yaml");
  ASSERT_EQ(bad.errors.size(), 5u) << dump(bad);
  EXPECT_EQ(bad.errors[0].field, "routes[0].mcp.authorization.authorization_servers");
  EXPECT_EQ(bad.errors[1].field, "routes[0].mcp.authorization");
  EXPECT_EQ(bad.errors[1].code, "missing_policy");
  EXPECT_EQ(bad.errors[2].field, "routes[0].mcp.authorization.resource");
  EXPECT_EQ(bad.errors[2].pos.line, 8);
  EXPECT_EQ(bad.errors[3].field, "routes[0].mcp.authorization.scopes[0]");
  // Same path (the trailing '/' aside), so the same metadata URL.
  EXPECT_EQ(bad.errors[4].field, "routes[2].mcp.authorization.resource");
  EXPECT_EQ(bad.errors[4].code, "duplicate_value");
}

TEST(McpConfig, ToolRules) {
  auto ok = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      tools:
        rules:
          - {tools: ["admin-*"], allow: {groups: [ops], scopes: ["mcp:admin"], claims: {role: admin}}}
          - {tools: [read-file], arguments: {path: "/etc/*"}, deny: {}}
)yaml");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  const auto& rs = ok.config.routes[0].mcp->tool_rules;
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].allow);
  EXPECT_EQ(rs[0].who.groups, std::vector<std::string>{"ops"});
  EXPECT_EQ(rs[0].who.claims[0].second, "admin");
  EXPECT_FALSE(rs[1].allow);
  EXPECT_EQ(rs[1].arguments[0].first, "path");

  auto bad = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      tools:
        rules:
          - {allow: {consumers: [a]}, deny: {}}
          - {tools: [x]}
)yaml");
  ASSERT_EQ(bad.errors.size(), 3u) << dump(bad);
  EXPECT_EQ(bad.errors[0].field, "routes[0].mcp.tools.rules[0].tools");
  EXPECT_EQ(bad.errors[0].code, "missing_field");
  EXPECT_EQ(bad.errors[1].field, "routes[0].mcp.tools.rules[0].deny");
  EXPECT_EQ(bad.errors[1].code, "conflicting_fields");
  EXPECT_EQ(bad.errors[1].pos.line, 10);
  EXPECT_EQ(bad.errors[2].code, "missing_field");
  EXPECT_EQ(bad.errors[2].pos.line, 11);
}

TEST(McpConfig, ToolLimits) {
  auto ok = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      tools:
        limits:
          - {tools: ["search*"], requests: 10, window: 1m}
          - {tools: ["*"], quota: 1000, period: month, by: header, header: X-Tenant, per_tool: true}
          - {tools: [x], requests: 2, window: 1s, algorithm: token-bucket, burst: 5, by: ip}
)yaml");
  ASSERT_TRUE(ok.ok()) << dump(ok);
  const auto& ls = ok.config.routes[0].mcp->tool_limits;
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0].requests, 10);
  EXPECT_EQ(ls[0].window_ms, 60'000);
  EXPECT_EQ(ls[0].by, "consumer");
  EXPECT_FALSE(ls[0].per_tool);
  EXPECT_FALSE(ls[0].quota);
  EXPECT_EQ(ls[1].quota, 1000);
  EXPECT_EQ(ls[1].period, "month");
  EXPECT_EQ(ls[1].header, "x-tenant");
  EXPECT_TRUE(ls[1].per_tool);
  EXPECT_EQ(ls[2].algorithm, "token-bucket");
  EXPECT_EQ(ls[2].burst, 5);

  auto bad = load(R"yaml(mcp:
  servers: [{name: s, command: [x]}]
routes:
  - name: t
    match: {paths: ["/mcp"]}
    mcp:
      servers: [s]
      tools:
        limits:
          - {requests: 1, window: 1m}
          - {tools: [a], requests: 1, window: 1500ms}
          - {tools: [a], requests: 1, window: 1m, quota: 5}
          - {tools: [a], quota: 5, period: fortnight}
          - {tools: [a], by: header, quota: 5, period: day}
          - {tools: [a], requests: 0, window: 1m, burst: 3}
          - {tools: [a], by: ip}
)yaml");
  ASSERT_EQ(bad.errors.size(), 8u) << dump(bad);
  EXPECT_EQ(bad.errors[0].field, "routes[0].mcp.tools.limits[0].tools");
  EXPECT_EQ(bad.errors[0].code, "missing_field");
  EXPECT_EQ(bad.errors[0].pos.line, 10);
  EXPECT_EQ(bad.errors[1].field, "routes[0].mcp.tools.limits[1].window");
  EXPECT_EQ(bad.errors[1].pos.line, 11);
  EXPECT_EQ(bad.errors[2].field, "routes[0].mcp.tools.limits[2].quota");
  EXPECT_EQ(bad.errors[2].code, "conflicting_fields");
  EXPECT_EQ(bad.errors[3].field, "routes[0].mcp.tools.limits[3].period");
  EXPECT_NE(bad.errors[3].message.find("fortnight"), std::string::npos);
  EXPECT_EQ(bad.errors[4].field, "routes[0].mcp.tools.limits[4].header");
  EXPECT_EQ(bad.errors[4].code, "missing_field");
  EXPECT_EQ(bad.errors[5].field, "routes[0].mcp.tools.limits[5].requests");
  EXPECT_EQ(bad.errors[6].field, "routes[0].mcp.tools.limits[5].burst");
  EXPECT_EQ(bad.errors[7].field, "routes[0].mcp.tools.limits[6]");
  EXPECT_EQ(bad.errors[7].code, "missing_field");
}

}  // namespace
}  // namespace gatehouse::config
