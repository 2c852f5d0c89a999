#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

using namespace loader_test_util;

constexpr const char* kRoutes = R"yaml(routes:
  - name: r
    match: {paths: ["/"]}
    upstream: g
)yaml";

TEST(ConfigUpstreamProtocol, DefaultIsHttp1) {
  auto d = load(kMinimal);
  ASSERT_TRUE(d.ok()) << dump(d);
  EXPECT_EQ(d.config.upstreams[0].protocol, UpstreamProtocol::kHttp1);
  EXPECT_TRUE(d.config.upstreams[0].retries.on_grpc_statuses.empty());
}

TEST(ConfigUpstreamProtocol, Http2AndGrpcRetries) {
  auto r = load(std::string("upstreams:\n  - name: g\n    protocol: http2\n"
                            "    targets: [\"127.0.0.1:50051\"]\n"
                            "    retries: {attempts: 2, on_grpc_statuses: [14, 4]}\n") +
                kRoutes);
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config.upstreams[0].protocol, UpstreamProtocol::kHttp2);
  EXPECT_EQ(r.config.upstreams[0].retries.on_grpc_statuses, (std::vector<int>{14, 4}));
}

TEST(ConfigUpstreamProtocol, BadValues) {
  auto p = load(std::string("upstreams:\n  - name: g\n    protocol: h3\n"
                            "    targets: [\"127.0.0.1:50051\"]\n") +
                kRoutes);
  EXPECT_FALSE(p.ok());
  EXPECT_NE(dump(p).find("upstreams[0].protocol"), std::string::npos) << dump(p);
  auto g = load(std::string("upstreams:\n  - name: g\n    targets: [\"127.0.0.1:50051\"]\n"
                            "    retries: {on_grpc_statuses: [0]}\n") +
                kRoutes);
  EXPECT_FALSE(g.ok());
  EXPECT_NE(dump(g).find("1..16"), std::string::npos) << dump(g);
}

}  // namespace
}  // namespace gatehouse::config

namespace gatehouse::config {
namespace {

using namespace loader_test_util;

constexpr const char* kH2Upstream =
    "upstreams:\n  - name: g\n    protocol: http2\n    targets: [\"127.0.0.1:50051\"]\n";

TEST(ConfigGrpcWeb, BoolAndMap) {
  auto on = load(std::string(kH2Upstream) +
                 "routes:\n  - name: r\n    match: {paths: [\"/\"]}\n    upstream: g\n"
                 "    grpc_web: true\n");
  ASSERT_TRUE(on.ok()) << dump(on);
  ASSERT_TRUE(on.config.routes[0].grpc_web.has_value());
  EXPECT_TRUE(on.config.routes[0].grpc_web->cors);
  EXPECT_EQ(on.config.routes[0].grpc_web->max_body, 4u * 1024 * 1024);
  auto off = load(std::string(kH2Upstream) + kRoutes + "    grpc_web: false\n");
  ASSERT_TRUE(off.ok()) << dump(off);
  EXPECT_FALSE(off.config.routes[0].grpc_web.has_value());
  auto map = load(std::string(kH2Upstream) + kRoutes +
                  "    grpc_web: {cors: false, max_body: 64KiB}\n");
  ASSERT_TRUE(map.ok()) << dump(map);
  EXPECT_FALSE(map.config.routes[0].grpc_web->cors);
  EXPECT_EQ(map.config.routes[0].grpc_web->max_body, 64u * 1024);
}

TEST(ConfigGrpcWeb, NeedsHttp2Upstream) {
  auto r = load(std::string("upstreams:\n  - name: g\n    targets: [\"127.0.0.1:50051\"]\n") +
                kRoutes + "    grpc_web: true\n");
  expect_only_error(r, "invalid_value", "routes[0].grpc_web", 8, 15);
  EXPECT_NE(dump(r).find("protocol: http2"), std::string::npos) << dump(r);
}

TEST(ConfigUpstreamHttp2, PingKeepalive) {
  auto d = load(std::string(kH2Upstream) + kRoutes);
  ASSERT_TRUE(d.ok()) << dump(d);
  EXPECT_EQ(d.config.upstreams[0].http2.ping_interval_ms, 0);
  EXPECT_EQ(d.config.upstreams[0].http2.ping_timeout_ms, 10'000);
  auto p = load(std::string(kH2Upstream) + "    http2: {ping_interval: 30s, ping_timeout: 2s}\n" +
                kRoutes);
  ASSERT_TRUE(p.ok()) << dump(p);
  EXPECT_EQ(p.config.upstreams[0].http2.ping_interval_ms, 30'000);
  EXPECT_EQ(p.config.upstreams[0].http2.ping_timeout_ms, 2'000);
  auto h1 = load(std::string("upstreams:\n  - name: g\n    targets: [\"127.0.0.1:50051\"]\n"
                             "    http2: {ping_interval: 30s}\n") +
                 kRoutes);
  EXPECT_FALSE(h1.ok());
  EXPECT_NE(dump(h1).find("upstreams[0].http2.ping_interval"), std::string::npos) << dump(h1);
  auto zero = load(std::string(kH2Upstream) + "    http2: {ping_interval: 1s, ping_timeout: 0}\n" +
                   kRoutes);
  EXPECT_FALSE(zero.ok());
  EXPECT_NE(dump(zero).find("upstreams[0].http2.ping_timeout"), std::string::npos) << dump(zero);
}

TEST(ConfigGrpcWeb, UnknownKey) {
  auto r = load(std::string(kH2Upstream) + kRoutes + "    grpc_web: {corz: true}\n");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(dump(r).find("routes[0].grpc_web.corz"), std::string::npos) << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
