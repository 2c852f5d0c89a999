#include "net/http2/server_session.hpp"

#include <gtest/gtest.h>

#include "net/http2/session_test_util.hpp"

namespace gatehouse::net::http2 {
namespace {

using testing::Client;
using testing::frame;
using testing::parse_frames;
using testing::Recorder;

using Hdrs = std::vector<std::pair<std::string, std::string>>;

Hdrs get(std::string path = "/", std::string authority = "api.example") {
  return {{":method", "GET"}, {":scheme", "http"}, {":authority", authority}, {":path", path}};
}

TEST(Http2Session, GetIsDeliveredAndResponseWithTrailersReturns) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  Hdrs h = get("/users?id=1");
  h.push_back({"cookie", "a=1"});
  h.push_back({"cookie", "b=2"});
  h.push_back({"x-trace", "abc"});
  h.push_back({"te", "trailers"});
  int32_t id = c.request(h);
  ASSERT_TRUE(c.pump(s));
  ASSERT_EQ(rec.requests.size(), 1u);
  const Request& r = rec.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/users?id=1");
  EXPECT_EQ(r.authority, "api.example");
  EXPECT_TRUE(r.end_stream);
  ASSERT_EQ(r.headers.size(), 2u);  // te is hop-by-hop; cookies joined last
  EXPECT_TRUE(r.te_trailers);
  EXPECT_EQ(r.headers[0].name, "x-trace");
  EXPECT_EQ(r.headers[1].name, "cookie");
  EXPECT_EQ(r.headers[1].value, "a=1; b=2");

  s.submit_response(id, 200, {{"Content-Type", "text/plain"}, {"Connection", "keep-alive"}}, false);
  s.send_data(id, "hello ");
  ASSERT_TRUE(c.pump(s));
  s.send_data(id, "world");  // resumes a deferred data provider
  s.end_response(id, {{"grpc-status", "0"}});
  ASSERT_TRUE(c.pump(s));
  auto& resp = c.responses[id];
  EXPECT_EQ(resp.headers[":status"], "200");
  EXPECT_EQ(resp.headers["content-type"], "text/plain");
  EXPECT_EQ(resp.headers.count("connection"), 0u);
  EXPECT_EQ(resp.body, "hello world");
  EXPECT_EQ(resp.trailers["grpc-status"], "0");
  EXPECT_TRUE(resp.closed);
  EXPECT_EQ(rec.closed.count(id), 1u);
}

TEST(Http2Session, RequestBodyWindowOpensOnlyAsTheOwnerConsumes) {
  Recorder rec;
  Settings st;
  st.initial_window_size = 16'384;
  ServerSession s(st, rec);
  Client c;
  c.pump(s);  // the client learns our SETTINGS (its first flight may use 64 KiB)
  std::string body(100'000, 'x');
  Hdrs h = get();
  h[0].second = "POST";
  h.push_back({"content-length", std::to_string(body.size())});
  int32_t id = c.request(h, &body);
  c.pump(s);
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_TRUE(rec.requests[0].has_content_length);
  EXPECT_FALSE(rec.requests[0].end_stream);
  // Without consumption the client can send no more than the stream window.
  EXPECT_LE(rec.bodies[id].size(), 16'384u);
  EXPECT_GT(rec.bodies[id].size(), 0u);
  EXPECT_FALSE(rec.ended[id]);
  size_t consumed = 0;
  for (int i = 0; i < 100 && !rec.ended[id]; ++i) {
    size_t seen = rec.bodies[id].size();
    s.consume(id, seen - consumed);
    consumed = seen;
    c.pump(s);
  }
  EXPECT_TRUE(rec.ended[id]);
  EXPECT_EQ(rec.bodies[id].size(), body.size());
}

TEST(Http2Session, SmugglingShapedRequestsAreReset) {
  struct Case {
    const char* what;
    std::pair<std::string, std::string> extra;
  };
  const Case cases[] = {
      {"connection header", {"connection", "close"}},
      {"transfer-encoding", {"transfer-encoding", "chunked"}},
      {"upgrade", {"upgrade", "websocket"}},
      {"te not trailers", {"te", "gzip"}},
      {"CRLF in value", {"x-a", "1\r\nX-Injected: yes"}},
      {"NUL in value", {"x-a", std::string("a\0b", 3)}},
      {"host differs from :authority", {"host", "evil.example"}},
  };
  for (const auto& k : cases) {
    Recorder rec;
    ServerSession s(Settings{}, rec);
    Client c;
    Hdrs h = get();
    h.push_back(k.extra);
    int32_t id = c.request(h);
    c.pump(s);
    EXPECT_TRUE(rec.requests.empty()) << k.what;
    EXPECT_TRUE(c.responses[id].closed) << k.what;
    EXPECT_EQ(c.responses[id].close_code, uint32_t{NGHTTP2_PROTOCOL_ERROR}) << k.what;
  }
}

TEST(Http2Session, UpperCaseNameIsReset) {
  // nghttp2's client lower-cases names, so this one goes in raw.
  Recorder rec;
  ServerSession s(Settings{}, rec);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, "");
  in += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM, 1,
              testing::hpack_get() + testing::hpack_literal("X-Upper", "1"));
  s.receive(in);
  std::string out;
  s.collect_output(out);
  EXPECT_TRUE(rec.requests.empty());
  bool reset = false;
  for (auto& f : parse_frames(out))
    if (f.type == NGHTTP2_RST_STREAM && f.stream == 1 && f.error_code() == NGHTTP2_PROTOCOL_ERROR)
      reset = true;
  EXPECT_TRUE(reset);
}

TEST(Http2Session, MatchingHostIsAcceptedAndAuthorityFromHost) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  Hdrs h = {{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {"host", "h.example"}};
  c.request(h);
  c.pump(s);
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].authority, "h.example");
}

TEST(Http2Session, OversizedHeaderListGets431) {
  Recorder rec;
  Settings st;
  st.max_header_list_size = 1024;
  ServerSession s(st, rec);
  Client c;
  Hdrs h = get();
  h.push_back({"x-big", std::string(2000, 'v')});
  int32_t id = c.request(h);
  c.pump(s);
  EXPECT_TRUE(rec.requests.empty());
  EXPECT_EQ(c.responses[id].headers[":status"], "431");
  EXPECT_NE(c.responses[id].body.find("headers_too_large"), std::string::npos);
  EXPECT_EQ(s.stats().refused_too_large, 1u);
  // The connection stays usable.
  int32_t id2 = c.request(get());
  c.pump(s);
  EXPECT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].stream_id, id2);
}

TEST(Http2Session, RapidResetEndsTheConnectionWithEnhanceYourCalm) {
  Recorder rec;
  Settings st;
  st.max_resets_per_window = 50;
  ServerSession s(st, rec);
  Client c;
  bool alive = true;
  for (int i = 0; i < 200 && alive; ++i) {
    int32_t id = c.request(get());
    c.pump(s);
    nghttp2_submit_rst_stream(c.session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    alive = c.pump(s);
  }
  EXPECT_FALSE(alive);
  EXPECT_TRUE(s.stats().flood_detected);
  EXPECT_EQ(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_FALSE(s.want_read());
}

TEST(Http2Session, PingFloodEndsTheConnection) {
  Recorder rec;
  Settings st;
  st.max_control_frames_per_window = 100;
  ServerSession s(st, rec);
  Client c;
  for (int i = 0; i < 300; ++i) nghttp2_submit_ping(c.session, NGHTTP2_FLAG_NONE, nullptr);
  EXPECT_FALSE(c.pump(s));
  EXPECT_EQ(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST(Http2Session, UnreadAcksAreCapped) {
  // A client that sends PINGs but never reads: the ACKs queued for it are
  // capped (nghttp2 max_outbound_ack), and the connection ends.
  Recorder rec;
  Settings st;
  st.max_outbound_ack = 10;
  st.max_control_frames_per_window = 1'000'000;  // isolate the ACK cap
  ServerSession s(st, rec);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, "");
  bool alive = s.receive(in);
  for (int i = 0; i < 10'000 && alive; ++i)
    alive = s.receive(frame(NGHTTP2_PING, 0, 0, std::string(8, 'p')));
  EXPECT_FALSE(alive);
}

TEST(Http2Session, SettingsWithTooManyEntriesEndTheConnection) {
  Recorder rec;
  Settings st;
  st.max_settings_entries = 8;
  ServerSession s(st, rec);
  std::string payload;
  for (int i = 0; i < 40; ++i) payload += std::string("\x00\x03\x00\x00\x00\x64", 6);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, payload);
  EXPECT_FALSE(s.receive(in));
  std::string out;
  s.collect_output(out);
  bool goaway = false;
  for (auto& f : parse_frames(out))
    if (f.type == NGHTTP2_GOAWAY) goaway = true;
  EXPECT_TRUE(goaway);
}

TEST(Http2Session, ContinuationFloodEndsTheConnection) {
  Recorder rec;
  Settings st;
  st.max_continuations = 4;
  ServerSession s(st, rec);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, "");
  in += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, testing::hpack_get());
  for (int i = 0; i < 20; ++i)
    in += frame(NGHTTP2_CONTINUATION, 0, 1, testing::hpack_literal("x-c", "1"));
  EXPECT_FALSE(s.receive(in));
  EXPECT_TRUE(rec.requests.empty());
  std::string out;
  s.collect_output(out);
  bool goaway = false;
  for (auto& f : parse_frames(out))
    if (f.type == NGHTTP2_GOAWAY) goaway = true;
  EXPECT_TRUE(goaway);
}

TEST(Http2Session, ContinuationBytesCountTowardsTheHeaderListLimit) {
  Recorder rec;
  Settings st;
  st.max_header_list_size = 512;
  st.max_continuations = 100;
  ServerSession s(st, rec);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, "");
  in += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, testing::hpack_get());
  for (int i = 0; i < 20; ++i)
    in += frame(NGHTTP2_CONTINUATION, i == 19 ? NGHTTP2_FLAG_END_HEADERS : 0, 1,
                testing::hpack_literal("x-c", std::string(60, 'v')));
  EXPECT_TRUE(s.receive(in));
  EXPECT_TRUE(rec.requests.empty());
  std::string out;
  s.collect_output(out);
  EXPECT_EQ(s.stats().refused_too_large, 1u);
}

TEST(Http2Session, StreamsBeyondTheLimitAreRefused) {
  Recorder rec;
  Settings st;
  st.max_concurrent_streams = 2;
  ServerSession s(st, rec);
  std::string in(testing::kPreface);
  in += frame(NGHTTP2_SETTINGS, 0, 0, "");
  for (int32_t id = 1; id <= 9; id += 2)  // five streams, none ended
    in += frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_HEADERS, id, testing::hpack_get());
  s.receive(in);
  std::string out;
  s.collect_output(out);
  EXPECT_EQ(rec.requests.size(), 2u);
  int refused = 0;
  for (auto& f : parse_frames(out))
    if (f.type == NGHTTP2_RST_STREAM && f.error_code() == NGHTTP2_REFUSED_STREAM) ++refused;
  EXPECT_EQ(refused, 3);
}

TEST(Http2Session, ConnectIsAnswered501) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  int32_t id = c.request({{":method", "CONNECT"}, {":authority", "x.example:443"}});
  c.pump(s);
  EXPECT_TRUE(rec.requests.empty());
  EXPECT_EQ(c.responses[id].headers[":status"], "501");
}

TEST(Http2Session, ExtendedConnectForWebSocketIsDelivered) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  c.pump(s);  // RFC 8441 3: :protocol only after SETTINGS_ENABLE_CONNECT_PROTOCOL
  std::string bytes = "frames";
  int32_t id = c.request({{":method", "CONNECT"},
                          {":protocol", "websocket"},
                          {":scheme", "https"},
                          {":authority", "ws.example"},
                          {":path", "/chat"},
                          {"sec-websocket-protocol", "chat"}},
                         &bytes);
  c.pump(s);
  ASSERT_EQ(rec.requests.size(), 1u);
  EXPECT_EQ(rec.requests[0].method, "CONNECT");
  EXPECT_EQ(rec.requests[0].protocol, "websocket");
  EXPECT_EQ(rec.requests[0].path, "/chat");
  EXPECT_FALSE(rec.requests[0].end_stream);
  EXPECT_EQ(rec.bodies[id], "frames");
}

TEST(Http2Session, ExtendedConnectForAnotherProtocolIsAnswered501) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  Client c;
  c.pump(s);
  std::string bytes = "x";
  int32_t id = c.request({{":method", "CONNECT"},
                          {":protocol", "connect-udp"},
                          {":scheme", "https"},
                          {":authority", "ws.example"},
                          {":path", "/"}},
                         &bytes);
  c.pump(s);
  EXPECT_TRUE(rec.requests.empty());
  EXPECT_EQ(c.responses[id].headers[":status"], "501");
  EXPECT_NE(c.responses[id].body.find("protocol_unsupported"), std::string::npos);
}

TEST(Http2Session, GarbageInsteadOfPrefaceFails) {
  Recorder rec;
  ServerSession s(Settings{}, rec);
  EXPECT_FALSE(s.receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
}

TEST(Http2Session, SendReadyFiresWhenQueuedDataDrains) {
  Recorder rec;
  Settings st;
  st.stream_send_low_water = 1000;
  ServerSession s(st, rec);
  Client c;
  int32_t id = c.request(get());
  c.pump(s);
  s.submit_response(id, 200, {}, false);
  s.send_data(id, std::string(5000, 'd'));
  EXPECT_EQ(s.queued(id), 5000u);
  c.pump(s);
  EXPECT_EQ(rec.send_ready.size(), 1u);
  s.end_response(id);
  c.pump(s);
  EXPECT_EQ(c.responses[id].body.size(), 5000u);
}

}  // namespace
}  // namespace gatehouse::net::http2
