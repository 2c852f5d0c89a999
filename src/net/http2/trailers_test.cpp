// Trailers through the HTTP/2 <-> HTTP/1.1 bridge, both directions.
#include <gtest/gtest.h>

#include "net/http2/bridge.hpp"
#include "net/http2/server_session.hpp"
#include "net/http2/session_test_util.hpp"

namespace gatehouse::net::http2 {
namespace {

using testing::Client;
using testing::Recorder;

using Hdrs = std::vector<std::pair<std::string, std::string>>;

Hdrs post(std::string path = "/up") {
  return {{":method", "POST"}, {":scheme", "https"}, {":authority", "api.example"},
          {":path", path}, {"te", "trailers"}, {"content-type", "application/grpc"}};
}

TEST(Http2Trailers, RequestTrailersAreDeliveredWithoutForbiddenFields) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  std::string body = "payload";
  int32_t id = c.request(post(), &body,
                         {{"x-checksum", "abc"}, {"content-length", "7"}, {"authorization", "x"},
                          {"grpc-status-details-bin", "AAE"}, {"host", "evil.example"}});
  ASSERT_TRUE(c.pump(s));
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_TRUE(rec.requests[0].te_trailers);
  EXPECT_EQ(rec.bodies[id], "payload");
  EXPECT_TRUE(rec.ended[id]);
  ASSERT_EQ(rec.trailers[id].size(), 2u);
  EXPECT_EQ(rec.trailers[id][0].name, "x-checksum");
  EXPECT_EQ(rec.trailers[id][0].value, "abc");
  EXPECT_EQ(rec.trailers[id][1].name, "grpc-status-details-bin");
}

TEST(Http2Trailers, NoTrailersNoCallback) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  std::string body = "x";
  int32_t id = c.request(post(), &body);
  ASSERT_TRUE(c.pump(s));
  EXPECT_TRUE(rec.ended[id]);
  EXPECT_EQ(rec.trailers.count(id), 0u);
}

TEST(Http2Trailers, BridgeWritesTeAndChunkedTrailers) {
  Request r;
  r.method = "POST";
  r.path = "/up";
  r.authority = "api.example";
  r.te_trailers = true;
  std::string head = request_head_to_http1(r);
  EXPECT_NE(head.find("\r\nTE: trailers\r\n"), std::string::npos);
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  std::string out;
  append_body(out, BodyFraming::kChunked, "abc");
  append_body_end(out, BodyFraming::kChunked, {{"x-sum", "1"}, {"x-two", "2"}});
  EXPECT_EQ(out, "3\r\nabc\r\n0\r\nx-sum: 1\r\nx-two: 2\r\n\r\n");
  // A Content-Length body has no place for trailers.
  std::string fixed;
  append_body_end(fixed, BodyFraming::kLength, {{"x-sum", "1"}});
  EXPECT_EQ(fixed, "");
}

TEST(Http2Trailers, ResponseReaderKeepsUpstreamTrailers) {
  const std::string resp =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: grpc-status\r\n\r\n"
      "5\r\nhello\r\n0\r\ngrpc-status: 0\r\ngrpc-message:  ok \r\nset-cookie: a=1\r\n\r\n";
  for (size_t step : {1u, 7u, 1000u}) {
    ResponseReader rr("POST");
    std::string buf, body;
    bool done = false;
    for (size_t i = 0; i < resp.size() && !done; i += step) {
      buf += resp.substr(i, step);
      auto o = rr.feed(buf);
      ASSERT_FALSE(o.error);
      for (auto d : o.data) body += d;
      buf.erase(0, o.consumed);
      done = o.done;
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(body, "hello");
    auto t = rr.trailers();
    ASSERT_EQ(t.size(), 2u) << step;  // set-cookie is forbidden in trailers
    EXPECT_EQ(t[0].name, "grpc-status");
    EXPECT_EQ(t[0].value, "0");
    EXPECT_EQ(t[1].value, "ok");
  }
}

TEST(Http2Trailers, TrailersOnlyChunkedResponseReachesTheClient) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  int32_t id = c.request(post());
  ASSERT_TRUE(c.pump(s));
  s.submit_response(id, 200, {{"content-type", "application/grpc"}}, false);
  s.end_response(id, {{"grpc-status", "14"}, {"Grpc-Message", "no upstream"}});
  ASSERT_TRUE(c.pump(s));
  auto& r = c.responses[id];
  EXPECT_EQ(r.headers[":status"], "200");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.trailers["grpc-status"], "14");
  EXPECT_EQ(r.trailers["grpc-message"], "no upstream");
  EXPECT_TRUE(r.closed);
}

}  // namespace
}  // namespace gatehouse::net::http2
