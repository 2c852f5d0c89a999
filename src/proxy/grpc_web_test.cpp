#include "proxy/grpc_web.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy::grpc_web {
namespace {

std::string frame(unsigned char flag, std::string_view msg) {
  std::string f(1, static_cast<char>(flag));
  auto n = static_cast<uint32_t>(msg.size());
  for (int s = 24; s >= 0; s -= 8) f += static_cast<char>(n >> s & 0xff);
  f += msg;
  return f;
}

http1::RequestHead head_with(std::vector<http1::Header> hs, std::string method = "POST") {
  http1::RequestHead h;
  h.method = std::move(method);
  h.headers = std::move(hs);
  return h;
}

TEST(GrpcWeb, ContentTypes) {
  Kind k;
  ASSERT_TRUE(parse_content_type("application/grpc-web", k));
  EXPECT_FALSE(k.text);
  EXPECT_EQ(k.subtype, "");
  ASSERT_TRUE(parse_content_type("application/grpc-web+proto", k));
  EXPECT_FALSE(k.text);
  EXPECT_EQ(k.subtype, "+proto");
  ASSERT_TRUE(parse_content_type("Application/GRPC-Web-Text+Proto; charset=x", k));
  EXPECT_TRUE(k.text);
  EXPECT_EQ(k.subtype, "+proto");
  ASSERT_TRUE(parse_content_type("application/grpc-web-text", k));
  EXPECT_TRUE(k.text);
  EXPECT_FALSE(parse_content_type("application/grpc", k));
  EXPECT_FALSE(parse_content_type("application/grpc-webx", k));
  EXPECT_FALSE(parse_content_type("application/grpc-web+", k));
  EXPECT_FALSE(parse_content_type("application/grpc-web-textual", k));
  EXPECT_EQ(upstream_content_type(k), "application/grpc");
  ASSERT_TRUE(parse_content_type("application/grpc-web+proto", k));
  EXPECT_EQ(upstream_content_type(k), "application/grpc+proto");
}

TEST(GrpcWeb, ResponseContentType) {
  Kind k;
  ASSERT_TRUE(parse_content_type("application/grpc-web+proto", k));
  EXPECT_EQ(response_content_type(false, "application/grpc", k), "application/grpc-web+proto");
  EXPECT_EQ(response_content_type(false, "application/grpc+json", k), "application/grpc-web+json");
  EXPECT_EQ(response_content_type(true, "application/grpc+proto", k),
            "application/grpc-web-text+proto");
  EXPECT_EQ(response_content_type(false, "", k), "application/grpc-web+proto");
}

TEST(GrpcWeb, TextAnswerByAccept) {
  Kind k;
  ASSERT_TRUE(parse_content_type("application/grpc-web", k));
  EXPECT_FALSE(wants_text(head_with({{"Accept", "application/grpc-web"}}), k));
  EXPECT_TRUE(wants_text(head_with({{"Accept", "*/*, application/grpc-web-text"}}), k));
  k.text = true;
  EXPECT_TRUE(wants_text(head_with({}), k));
}

TEST(GrpcWeb, Base64RoundTrip) {
  for (std::string s : std::vector<std::string>{"", "a", "ab", "abc", "abcd",
                                                std::string("\0\xff\x80\x7f", 4)}) {
    std::string out;
    Problem why;
    ASSERT_TRUE(base64_decode(base64_encode(s), out, why)) << why.message;
    EXPECT_EQ(out, s);
  }
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("a"), "YQ==");
}

TEST(GrpcWeb, Base64ConcatenatedChunks) {
  // Two flushes encoded apart: padding in the middle is allowed.
  std::string out;
  Problem why;
  ASSERT_TRUE(base64_decode(base64_encode("a") + base64_encode("bc"), out, why)) << why.message;
  EXPECT_EQ(out, "abc");
}

TEST(GrpcWeb, Base64Errors) {
  std::string out;
  Problem why;
  EXPECT_FALSE(base64_decode("YWJ", out, why));
  EXPECT_EQ(why.code, "grpc_web_bad_base64");
  EXPECT_NE(why.message.find("not a multiple of 4"), std::string::npos);
  EXPECT_FALSE(base64_decode("YW!j", out, why));
  EXPECT_NE(why.message.find("offset 2"), std::string::npos) << why.message;
  EXPECT_FALSE(base64_decode("YQ=j", out, why));
  EXPECT_NE(why.message.find("after '=' padding"), std::string::npos) << why.message;
  EXPECT_FALSE(base64_decode("Y===", out, why));
}

TEST(GrpcWeb, RequestFrames) {
  Problem why;
  EXPECT_TRUE(check_request_frames("", why));
  EXPECT_TRUE(check_request_frames(frame(0, "hello"), why));
  EXPECT_TRUE(check_request_frames(frame(0, "") + frame(1, "zz"), why));
  EXPECT_FALSE(check_request_frames(frame(0, "hello").substr(0, 7), why));
  EXPECT_EQ(why.code, "grpc_web_bad_frame");
  EXPECT_NE(why.message.find("declares 5 bytes but 2 follow"), std::string::npos) << why.message;
  EXPECT_FALSE(check_request_frames(frame(0, "x") + std::string(2, '\0'), why));
  EXPECT_NE(why.message.find("offset 6"), std::string::npos) << why.message;
  EXPECT_FALSE(check_request_frames(frame(0x80, "grpc-status: 0\r\n"), why));
  EXPECT_NE(why.message.find("trailer frame"), std::string::npos);
  EXPECT_FALSE(check_request_frames(frame(0x02, "x"), why));
  EXPECT_NE(why.message.find("0x02"), std::string::npos) << why.message;
  // A huge declared length is not trusted.
  EXPECT_FALSE(check_request_frames(std::string("\0\xff\xff\xff\xff", 5), why));
}

TEST(GrpcWeb, TrailerFrame) {
  std::string f = trailer_frame({{"Grpc-Status", "0"}, {"grpc-message", "ok"}});
  std::string block = "grpc-status: 0\r\ngrpc-message: ok\r\n";
  EXPECT_EQ(f, frame(0x80, block));
}

TEST(GrpcWeb, Cors) {
  auto pre = head_with({{"Origin", "https://app.example"},
                        {"Access-Control-Request-Method", "POST"},
                        {"Access-Control-Request-Headers", "x-custom, bad header"}},
                       "OPTIONS");
  EXPECT_TRUE(is_preflight(pre));
  EXPECT_FALSE(is_preflight(head_with({{"Origin", "https://app.example"}}, "OPTIONS")));
  std::string h = preflight_head(pre, "rid", false);
  EXPECT_EQ(h.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  EXPECT_NE(h.find("Access-Control-Allow-Origin: https://app.example\r\n"), std::string::npos);
  EXPECT_NE(h.find("x-grpc-web, x-user-agent, grpc-timeout"), std::string::npos);
  EXPECT_NE(h.find(", x-custom\r\n"), std::string::npos) << h;
  EXPECT_EQ(h.find("bad header"), std::string::npos);
  EXPECT_NE(h.find("Access-Control-Expose-Headers: grpc-status, grpc-message"),
            std::string::npos);
  EXPECT_EQ(h.find("Allow-Credentials"), std::string::npos);
  EXPECT_TRUE(cors_response_headers(head_with({})).empty());
  auto r = cors_response_headers(head_with({{"origin", "https://a"}}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].value, "https://a");
}

}  // namespace
}  // namespace gatehouse::proxy::grpc_web
