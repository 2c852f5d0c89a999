#include "config/loader_test_util.hpp"

namespace gatehouse::config {
namespace {

using namespace loader_test_util;

constexpr const char* kH2 =
    "upstreams:\n  - name: g\n    protocol: http2\n    targets: [\"127.0.0.1:50051\"]\n"
    "routes:\n  - name: r\n    match: {paths: [\"/\"]}\n    upstream: g\n";

TEST(ConfigGrpcTranscode, MissingDescriptorIsReportedAtItsKey) {
  auto r = load(std::string(kH2) + "    grpc_transcode: {descriptor: /nonexistent/x.pb}\n");
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "routes[0].grpc_transcode.descriptor");
  EXPECT_EQ(r.errors[0].code, "file_not_found");
  EXPECT_EQ(r.errors[0].pos.line, 9);
  EXPECT_EQ(r.errors[0].pos.column, 34);
}

TEST(ConfigGrpcTranscode, ShapeErrors) {
  auto r = load(std::string(kH2) +
                "    grpc_transcode:\n"
                "      descriptor: /nonexistent/x.pb\n"
                "      stream: lines\n"
                "      print: {pretty: true}\n"
                "      mapping:\n"
                "        - {method: a.B/C}\n"
                "        - {method: a.B/C, get: /x, post: /y}\n");
  EXPECT_FALSE(r.ok());
  std::string d = dump(r);
  EXPECT_NE(d.find("routes[0].grpc_transcode.stream"), std::string::npos) << d;
  EXPECT_NE(d.find("routes[0].grpc_transcode.print.pretty"), std::string::npos) << d;
  EXPECT_NE(d.find("routes[0].grpc_transcode.mapping[0]"), std::string::npos) << d;
  EXPECT_NE(d.find("one of get, put, post, delete, patch, custom"), std::string::npos) << d;
}

TEST(ConfigGrpcTranscode, NeedsHttp2Upstream) {
  auto r = load(
      "upstreams:\n  - name: g\n    targets: [\"127.0.0.1:50051\"]\n"
      "routes:\n  - name: r\n    match: {paths: [\"/\"]}\n    upstream: g\n"
      "    grpc_transcode: {descriptor: /nonexistent/x.pb}\n");
  EXPECT_NE(dump(r).find("protocol: http2"), std::string::npos) << dump(r);
}

}  // namespace
}  // namespace gatehouse::config
