// mcp.servers[].tls: an upstream's tls: block on https MCP servers.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.hpp"
#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(McpTlsConfig, ParsesTheUpstreamKeysWithFilesFromTheConfigFolder) {
  auto r = load_config_text(R"yaml(mcp:
  servers:
    - name: internal
      transport: streamable-http
      url: "https://10.0.0.7:8443/mcp"
      tls:
        sni: mcp.internal
        ca_file: certs/ca.pem
        client_cert: /etc/gatehouse/gw.crt
        client_key: ../keys/gw.key
    - name: legacy
      transport: sse
      url: "https://legacy.internal/sse"
      tls: {verify: false}
    - {name: plain, url: "https://public.example.com/mcp"}
)yaml",
                            "/srv/gh/gatehouse.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& s = r.config.mcp.servers;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(s[0].tls.enabled);
  EXPECT_TRUE(s[0].tls.verify);
  EXPECT_EQ(s[0].tls.sni, "mcp.internal");
  EXPECT_EQ(s[0].tls.ca_file, "/srv/gh/certs/ca.pem");
  EXPECT_EQ(s[0].tls.client_cert, "/etc/gatehouse/gw.crt");  // absolute: as written
  EXPECT_EQ(s[0].tls.client_key, "/srv/keys/gw.key");
  EXPECT_EQ(s[0].tls.pos.line, 7);
  EXPECT_EQ(s[1].transport, McpTransport::kSse);
  EXPECT_TRUE(s[1].tls.enabled);
  EXPECT_FALSE(s[1].tls.verify);
  EXPECT_EQ(s[1].tls.ca_file, "");
  // No block: the system trust store, no context of its own.
  EXPECT_FALSE(s[2].tls.enabled);
}

TEST(McpTlsConfig, UpstreamFilesStayAsWritten) {
  // Only the MCP block is read from the config's folder: an upstream's paths
  // kept their meaning (the process's folder).
  auto r = load_config_text(R"yaml(upstreams:
  - name: u
    targets: ["https://a.internal:443"]
    tls: {ca_file: certs/ca.pem}
)yaml",
                            "/srv/gh/gatehouse.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.upstreams[0].tls.ca_file, "certs/ca.pem");
}

TEST(McpTlsConfig, ConfigWithoutAFolderKeepsRelativePaths) {
  auto r = load(R"yaml(mcp:
  servers:
    - {name: a, url: "https://a.internal/mcp", tls: {ca_file: ca.pem}}
)yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.mcp.servers[0].tls.ca_file, "ca.pem");
}

TEST(McpTlsConfig, TlsOnAnHttpUrlIsAnError) {
  auto r = load(R"yaml(mcp:
  servers:
    - name: a
      url: "http://a.internal/mcp"
      tls:
        ca_file: ca.pem
)yaml");
  expect_only_error(r, "conflicting_fields", "mcp.servers[0].tls", 6, 9);
  EXPECT_NE(r.errors[0].message.find("https url"), std::string::npos) << dump(r);
}

TEST(McpTlsConfig, TlsOnStdioAndOpenApiServersIsAnError) {
  auto stdio = load(R"yaml(mcp:
  servers:
    - name: a
      command: [node, s.js]
      tls: {verify: false}
)yaml");
  expect_only_error(stdio, "conflicting_fields", "mcp.servers[0].tls", 5, 12);
  auto openapi = load(R"yaml(mcp:
  servers:
    - name: a
      openapi: {spec: pets}
      tls: {sni: x.internal}
)yaml");
  expect_only_error(openapi, "conflicting_fields", "mcp.servers[0].tls", 5, 12);
}

TEST(McpTlsConfig, ClientCertAndKeyGoTogether) {
  auto no_key = load(R"yaml(mcp:
  servers:
    - name: a
      url: "https://a.internal/mcp"
      tls: {client_cert: gw.crt}
)yaml");
  expect_only_error(no_key, "missing_field", "mcp.servers[0].tls.client_key", 5, 12);
  auto no_cert = load(R"yaml(mcp:
  servers:
    - name: a
      url: "https://a.internal/mcp"
      tls: {client_key: gw.key}
)yaml");
  expect_only_error(no_cert, "missing_field", "mcp.servers[0].tls.client_cert", 5, 12);
}

TEST(McpTlsConfig, SniMustBeADnsName) {
  auto r = load(R"yaml(mcp:
  servers:
    - name: a
      url: "https://a.internal/mcp"
      tls: {sni: "not a name"}
)yaml");
  expect_only_error(r, "invalid_value", "mcp.servers[0].tls.sni", 5, 18);
}

TEST(McpTlsConfig, EnabledIsNotAnMcpKey) {
  // The URL's scheme says whether TLS is used; `enabled: false` on an https
  // URL could only be a mistake.
  auto r = load(R"yaml(mcp:
  servers:
    - name: a
      url: "https://a.internal/mcp"
      tls: {enabled: false}
)yaml");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].code, "unknown_field") << dump(r);
  EXPECT_EQ(r.errors[0].field, "mcp.servers[0].tls.enabled");
}

TEST(McpTlsConfig, UnknownKeysGetASuggestion) {
  auto r = load(R"yaml(mcp:
  servers:
    - name: a
      url: "https://a.internal/mcp"
      tls: {ca_fil: ca.pem}
)yaml");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "mcp.servers[0].tls.ca_fil");
  EXPECT_NE(r.errors[0].message.find("ca_file"), std::string::npos) << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
