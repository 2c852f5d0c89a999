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
