#include "net/http2/bridge.hpp"

#include <gtest/gtest.h>

namespace gatehouse::net::http2 {
namespace {

Request base() {
  Request r;
  r.method = "POST";
  r.path = "/v1/items?x=1";
  r.authority = "api.example:8080";
  r.headers = {{"accept", "*/*"}, {"cookie", "a=1; b=2"}};
  return r;
}

TEST(Http2Bridge, RequestWithoutBodyHasNoFraming) {
  Request r = base();
  r.method = "GET";
  r.end_stream = true;
  EXPECT_EQ(request_head_to_http1(r),
            "GET /v1/items?x=1 HTTP/1.1\r\nHost: api.example:8080\r\naccept: */*\r\n"
            "cookie: a=1; b=2\r\n\r\n");
  EXPECT_EQ(framing_for(r), BodyFraming::kNone);
}

TEST(Http2Bridge, ExtendedConnectBecomesAnUpgrade) {
  Request r;
  r.method = "CONNECT";
  r.protocol = "websocket";
  r.path = "/chat";
  r.authority = "ws.example";
  r.headers = {{"sec-websocket-protocol", "chat"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-key", "client-made"},
               {"origin", "https://ws.example"}};
  EXPECT_EQ(framing_for(r), BodyFraming::kTunnel);
  EXPECT_EQ(request_head_to_http1(r, "a2V5a2V5a2V5a2V5a2V5aw=="),
            "GET /chat HTTP/1.1\r\nHost: ws.example\r\nsec-websocket-protocol: chat\r\n"
            "origin: https://ws.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: a2V5a2V5a2V5a2V5a2V5aw==\r\n\r\n");
  std::string body;
  append_body(body, BodyFraming::kTunnel,
              "\x81\x80"
              "abcd");
  append_body_end(body, BodyFraming::kTunnel);
  EXPECT_EQ(body,
            "\x81\x80"
            "abcd");
}

TEST(Http2Bridge, UpgradeAnswerOpensTheTunnel) {
  ResponseReader rr("CONNECT", true);
  auto o = rr.feed(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: x\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi");
  ASSERT_TRUE(o.head_ready);
  EXPECT_TRUE(rr.tunnel_open());
  auto f = rr.fields();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].name, "Sec-WebSocket-Protocol");
  ASSERT_EQ(o.data.size(), 1u);
  EXPECT_EQ(o.data[0], "\x81\x02hi");
  EXPECT_FALSE(o.done);
  EXPECT_TRUE(rr.on_eof());
  // A refusal is an ordinary response.
  ResponseReader no("CONNECT", true);
  o = no.feed("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
  EXPECT_TRUE(o.head_ready);
  EXPECT_FALSE(no.tunnel_open());
  EXPECT_TRUE(o.done);
}

TEST(Http2Bridge, ContentLengthFromTheClientIsKept) {
  Request r = base();
  r.has_content_length = true;
  r.content_length = 5;
  std::string h = request_head_to_http1(r);
  EXPECT_NE(h.find("\r\nContent-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(h.find("chunked"), std::string::npos);
  std::string body;
  append_body(body, framing_for(r), "hello");
  append_body_end(body, framing_for(r));
  EXPECT_EQ(body, "hello");
}

TEST(Http2Bridge, BodyWithoutLengthIsChunked) {
  Request r = base();
  std::string h = request_head_to_http1(r);
  EXPECT_NE(h.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos);
  std::string body;
  append_body(body, framing_for(r), "hello world, 26 bytes long");
  append_body(body, framing_for(r), "");
  append_body_end(body, framing_for(r));
  EXPECT_EQ(body, "1a\r\nhello world, 26 bytes long\r\n0\r\n\r\n");
}

TEST(Http2Bridge, EmptyPostWithContentLengthZero) {
  Request r = base();
  r.end_stream = true;
  r.has_content_length = true;
  EXPECT_NE(request_head_to_http1(r).find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(Http2Bridge, SerialisedHeadParsesBackStrictly) {
  Request r = base();
  r.has_content_length = true;
  r.content_length = 3;
  http1::RequestHead head;
  http1::ParseError err;
  std::string h = request_head_to_http1(r);
  ASSERT_EQ(http1::parse_request_head(h, http1::Limits{}, head, err), http1::ParseStatus::kComplete)
      << err.code;
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.content_length, 3u);
  EXPECT_EQ(*head.find("host"), "api.example:8080");
}

// Feeds `in` in pieces of `step` bytes, as the pipe delivers it.
struct Collected {
  bool head = false, done = false, error = false;
  std::string body;
};
Collected read_all(ResponseReader& rr, std::string_view in, size_t step) {
  Collected c;
  std::string buf;
  for (size_t off = 0; off < in.size() && !c.done && !c.error; off += step) {
    buf += in.substr(off, step);
    auto o = rr.feed(buf);
    c.head |= o.head_ready;
    for (auto d : o.data) c.body += d;
    c.done |= o.done;
    c.error |= o.error;
    buf.erase(0, o.consumed);
  }
  return c;
}

TEST(Http2Bridge, ResponseWithLengthSplitAnywhere) {
  const std::string resp =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 11\r\n"
      "Connection: keep-alive\r\nX-A: 1\r\n\r\nhello world";
  for (size_t step : {1u, 3u, 7u, 1000u}) {
    ResponseReader rr("POST");
    Collected c = read_all(rr, resp, step);
    EXPECT_TRUE(c.head);
    EXPECT_TRUE(c.done);
    EXPECT_EQ(c.body, "hello world") << step;
    EXPECT_EQ(rr.head().status, 201);
    auto f = rr.fields();
    ASSERT_EQ(f.size(), 2u);  // Connection dropped
    EXPECT_EQ(f[0].name, "Content-Length");
    EXPECT_EQ(f[1].name, "X-A");
  }
}

TEST(Http2Bridge, ChunkedResponseIsDecoded) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  for (size_t step : {1u, 5u, 1000u}) {
    ResponseReader rr("GET");
    Collected c = read_all(rr, resp, step);
    EXPECT_TRUE(c.done);
    EXPECT_EQ(c.body, "hello world");
    for (const auto& f : rr.fields()) EXPECT_NE(f.name, "Transfer-Encoding");
  }
}

TEST(Http2Bridge, HeadResponseHasNoBody) {
  ResponseReader rr("HEAD");
  Collected c = read_all(rr, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 1000);
  EXPECT_TRUE(c.done);
  EXPECT_FALSE(rr.has_body());
}

TEST(Http2Bridge, UntilCloseEndsAtEof) {
  ResponseReader rr("GET");
  Collected c = read_all(rr, "HTTP/1.1 200 OK\r\n\r\nstream", 1000);
  EXPECT_FALSE(c.done);
  EXPECT_EQ(c.body, "stream");
  EXPECT_TRUE(rr.on_eof());
}

TEST(Http2Bridge, TruncatedResponseIsAnErrorAtEof) {
  ResponseReader rr("GET");
  read_all(rr, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1000);
  EXPECT_FALSE(rr.on_eof());
}

TEST(Http2Bridge, MalformedResponseIsAnError) {
  ResponseReader rr("GET");
  Collected c = read_all(rr, "HTTP/1.1 200 OK\nbare-lf: 1\r\n\r\n", 1000);
  EXPECT_TRUE(c.error);
}

}  // namespace
}  // namespace gatehouse::net::http2
