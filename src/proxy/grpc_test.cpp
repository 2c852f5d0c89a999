#include "proxy/grpc.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy::grpc {
namespace {

TEST(Grpc, ContentType) {
  EXPECT_TRUE(is_grpc("application/grpc"));
  EXPECT_TRUE(is_grpc("application/grpc+proto"));
  EXPECT_TRUE(is_grpc("Application/GRPC;charset=utf-8"));
  EXPECT_FALSE(is_grpc("application/grpc-web"));
  EXPECT_FALSE(is_grpc("application/grpcx"));
  EXPECT_FALSE(is_grpc("application/json"));
}

TEST(Grpc, ParseTimeout) {
  EXPECT_EQ(parse_timeout("1H"), 3'600'000);
  EXPECT_EQ(parse_timeout("2M"), 120'000);
  EXPECT_EQ(parse_timeout("3S"), 3'000);
  EXPECT_EQ(parse_timeout("250m"), 250);
  EXPECT_EQ(parse_timeout("1500u"), 2);  // rounded up
  EXPECT_EQ(parse_timeout("1n"), 1);
  EXPECT_EQ(parse_timeout("99999999S"), 99'999'999'000);
  EXPECT_EQ(parse_timeout("123456789S"), -1);  // 9 digits
  EXPECT_EQ(parse_timeout("S"), -1);
  EXPECT_EQ(parse_timeout("10"), -1);
  EXPECT_EQ(parse_timeout("-1S"), -1);
  EXPECT_EQ(parse_timeout("1 S"), -1);
  EXPECT_EQ(parse_timeout("1s"), -1);  // units are case-sensitive
}

TEST(Grpc, FormatTimeout) {
  EXPECT_EQ(format_timeout(1500), "1500m");
  EXPECT_EQ(format_timeout(-5), "0m");
  EXPECT_EQ(format_timeout(100'000'000), "100000S");
  EXPECT_EQ(parse_timeout(format_timeout(12'345)), 12'345);
}

TEST(Grpc, StatusForHttp) {
  EXPECT_EQ(status_for_http(401), kUnauthenticated);
  EXPECT_EQ(status_for_http(403), kPermissionDenied);
  EXPECT_EQ(status_for_http(429), kResourceExhausted);
  EXPECT_EQ(status_for_http(502), kUnavailable);
  EXPECT_EQ(status_for_http(503), kUnavailable);
  EXPECT_EQ(status_for_http(504), kDeadlineExceeded);
  EXPECT_EQ(status_for_http(404), kUnimplemented);
  EXPECT_EQ(status_for_http(500), kInternal);
  EXPECT_EQ(status_for_http(418), kUnknown);
}

TEST(Grpc, MessageEncodingAndStatus) {
  EXPECT_EQ(encode_message("plain text"), "plain text");
  EXPECT_EQ(encode_message("100%\r\n\xc3\xa9"), "100%25%0D%0A%C3%A9");
  std::string s = "14", bad = "x", big = "1000";
  EXPECT_EQ(parse_status(&s), 14);
  EXPECT_EQ(parse_status(&bad), -1);
  EXPECT_EQ(parse_status(&big), -1);
  EXPECT_EQ(parse_status(nullptr), -1);
}

TEST(Grpc, TrailersOnlyHead) {
  std::string h = trailers_only_head(14, "down\r\nx: y", "rid1", {{"x-extra", "1"}}, false);
  EXPECT_EQ(h.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(h.find("grpc-status: 14\r\n"), std::string::npos);
  EXPECT_NE(h.find("grpc-message: down%0D%0Ax: y\r\n"), std::string::npos);  // no injection
  EXPECT_NE(h.find("x-extra: 1\r\n"), std::string::npos);
  EXPECT_NE(h.find("content-length: 0\r\n"), std::string::npos);
  EXPECT_EQ(h.find("connection: close"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::proxy::grpc
