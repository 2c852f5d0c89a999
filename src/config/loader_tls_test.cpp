// The tls: section, listeners.proxy_tls and upstream TLS (shape only; file
// contents are checked when a snapshot is built).
#include <gtest/gtest.h>

#include <cstdlib>

#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

TEST(ConfigLoaderTls, ReadsEveryField) {
  auto r = load(R"yaml(tls:
  certificates:
    - {cert: a.crt, key: a.key}
    - {cert: b.crt, key: b.key}
  min_version: "1.3"
  client_auth: {mode: required, ca_file: ca.pem, verify_depth: 2}
  handshake_timeout: 3s
  session_tickets: false
  session_timeout: 1m
listeners:
  proxy_tls: {address: "127.0.0.1:8443"}
upstreams:
  - name: u
    targets: ["10.0.0.1:443"]
    tls: {sni: api.internal, verify: false, ca_file: up.pem, client_cert: c.pem, client_key: k.pem}
  - name: v
    targets: ["https://v.internal:8443", {address: "https://w.internal:8443", weight: 2}]
)yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& t = r.config.server.tls;
  ASSERT_EQ(t.certificates.size(), 2u);
  EXPECT_EQ(t.certificates[1].cert, "b.crt");
  EXPECT_EQ(t.certificates[1].pos.line, 4);
  EXPECT_EQ(t.min_version, TlsVersion::kTls13);
  EXPECT_EQ(t.client_auth.mode, ClientAuthMode::kRequired);
  EXPECT_EQ(t.client_auth.ca_file, "ca.pem");
  EXPECT_EQ(t.client_auth.verify_depth, 2);
  EXPECT_EQ(t.handshake_timeout_ms, 3'000);
  EXPECT_FALSE(t.session_tickets);
  EXPECT_EQ(t.session_timeout_ms, 60'000);
  EXPECT_EQ(r.config.server.listeners.proxy_tls, "127.0.0.1:8443");
  const auto& u = r.config.upstreams[0].tls;
  EXPECT_TRUE(u.enabled);
  EXPECT_EQ(u.sni, "api.internal");
  EXPECT_FALSE(u.verify);
  EXPECT_EQ(u.client_key, "k.pem");
  const auto& v = r.config.upstreams[1];
  EXPECT_TRUE(v.tls.enabled);
  EXPECT_TRUE(v.tls.verify);
  EXPECT_EQ(v.targets[0].address, "v.internal:8443");
  EXPECT_EQ(v.targets[0].host, "v.internal");
  EXPECT_EQ(v.targets[1].port, 8443);
}

TEST(ConfigLoaderTls, ScalarListenerAndNoTlsByDefault) {
  auto r = load("listeners: {proxy_tls: \"127.0.0.1:0\"}\n"
                "tls: {certificates: [{cert: a, key: b}]}\n"
                "upstreams:\n  - name: u\n    targets: [\"http://10.0.0.1:80\"]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.server.listeners.proxy_tls, "127.0.0.1:0");
  EXPECT_FALSE(r.config.upstreams[0].tls.enabled);
  EXPECT_EQ(r.config.upstreams[0].targets[0].address, "10.0.0.1:80");
}

TEST(ConfigLoaderTls, Errors) {
  expect_only_error(load("listeners: {proxy_tls: \"127.0.0.1:0\"}\n"), "missing_field",
                    "tls.certificates", 1, 24);
  expect_only_error(load("tls: {min_version: \"1.1\"}\n"), "invalid_value", "tls.min_version", 1,
                    20);
  expect_only_error(load("tls:\n  client_auth: {mode: optional}\n"), "missing_field",
                    "tls.client_auth.ca_file", 2, 16);
  expect_only_error(load("tls:\n  certificates:\n    - {cert: a.crt}\n"), "missing_field",
                    "tls.certificates[0].key", 3, 7);
  expect_only_error(
      load(with_upstream("    targets: [\"https://a:1\", \"http://b:2\"]\n")), "invalid_value",
      "upstreams[0].targets[1]", 3, 30);
  expect_only_error(load(with_upstream("    targets: [\"a:1\"]\n    tls: {client_cert: c.pem}\n")),
                    "missing_field", "upstreams[0].tls.client_key", 4, 10);
}

TEST(ConfigLoaderTls, InlinePemAndPositions) {
  ::setenv("GATEHOUSE_TEST_KEY_PEM",
           "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 1);
  auto r = load(R"yaml(tls:
  certificates:
    - cert_pem: |
        -----BEGIN CERTIFICATE-----
        AAAA
        -----END CERTIFICATE-----
      key_pem: "${GATEHOUSE_TEST_KEY_PEM}"
    - {cert: b.crt, key_pem: "${GATEHOUSE_TEST_KEY_PEM}"}
)yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& c = r.config.server.tls.certificates;
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].cert_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(c[0].key_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  EXPECT_TRUE(c[0].cert.empty());
  EXPECT_EQ(c[0].cert_pos.line, 3);
  EXPECT_EQ(c[0].cert_pos.column, 17);
  EXPECT_EQ(c[0].key_pos.line, 7);
  EXPECT_EQ(c[1].cert, "b.crt");
  EXPECT_EQ(c[1].key_pem, c[0].key_pem);
  EXPECT_EQ(c[1].key_pos.column, 30);
  ::unsetenv("GATEHOUSE_TEST_KEY_PEM");
}

TEST(ConfigLoaderTls, ExactlyOneFormPerHalf) {
  expect_only_error(load("tls:\n  certificates:\n    - {cert: a.crt, cert_pem: x, key: k}\n"),
                    "conflicting_fields", "tls.certificates[0].cert_pem", 3, 31);
  expect_only_error(load("tls:\n  certificates:\n    - {cert: a.crt, key: k, key_pem: x}\n"),
                    "conflicting_fields", "tls.certificates[0].key_pem", 3, 38);
  expect_only_error(load("tls:\n  certificates:\n    - {key_pem: x}\n"), "missing_field",
                    "tls.certificates[0].cert", 3, 7);
}

}  // namespace
}  // namespace gatehouse::config
