#include "proxy/http_util.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

http1::RequestHead make_request(std::vector<http1::Header> headers) {
  http1::RequestHead h;
  h.method = "GET";
  h.target = "/x";
  h.headers = std::move(headers);
  return h;
}

// Options for a GET forwarded to host "u" with request id "r".
ForwardOptions get_options(std::string_view path, std::string_view client_ip) {
  ForwardOptions o;
  o.method = "GET";
  o.path_and_query = path;
  o.upstream_host = "u";
  o.client_ip = client_ip;
  o.request_id = "r";
  return o;
}

TEST(HttpUtil, ProblemJsonHasAllMembers) {
  std::string body = problem_json(404, "no_route", "no route matches \"GET /x\"", "abc");
  EXPECT_NE(body.find("\"type\":\"urn:gatehouse:problem:no_route\""), std::string::npos);
  EXPECT_NE(body.find("\"title\":\"Not Found\""), std::string::npos);
  EXPECT_NE(body.find("\"status\":404"), std::string::npos);
  EXPECT_NE(body.find("\"detail\":\"no route matches \\\"GET /x\\\"\""), std::string::npos);
  EXPECT_NE(body.find("\"code\":\"no_route\""), std::string::npos);
  EXPECT_NE(body.find("\"request_id\":\"abc\""), std::string::npos);
}

TEST(HttpUtil, SplitHost) {
  std::string h;
  EXPECT_TRUE(split_host("API.Example.com:8080", h));
  EXPECT_EQ(h, "api.example.com");
  EXPECT_TRUE(split_host("[::1]:80", h));
  EXPECT_EQ(h, "[::1]");
  EXPECT_TRUE(split_host("example.com", h));
  EXPECT_EQ(h, "example.com");
  EXPECT_FALSE(split_host("exa mple.com", h));
  EXPECT_FALSE(split_host("example.com:80x", h));
  EXPECT_FALSE(split_host("[::1", h));
  EXPECT_FALSE(split_host(":80", h));
}

TEST(HttpUtil, SplitHostPortIsATcpPortAndColonsNeedBrackets) {
  std::string h;
  EXPECT_TRUE(split_host("example.com:65535", h));
  EXPECT_TRUE(split_host("example.com:", h));  // RFC 3986: port = *DIGIT
  EXPECT_EQ(h, "example.com");
  EXPECT_TRUE(split_host("[2001:db8::1]", h));
  EXPECT_EQ(h, "[2001:db8::1]");
  EXPECT_FALSE(split_host("example.com:65536", h));
  EXPECT_FALSE(split_host("example.com:000080", h));
  EXPECT_FALSE(split_host("example.com:99999999999999999999", h));
  EXPECT_FALSE(split_host("a:b:80", h));  // a bare IPv6 address or two ports
  EXPECT_FALSE(split_host("::1", h));
  EXPECT_FALSE(split_host("[]:80", h));
  EXPECT_FALSE(split_host("[::1]x", h));
  EXPECT_FALSE(split_host("exa[mple].com", h));
  EXPECT_FALSE(split_host("user@example.com", h));
}

TEST(HttpUtil, RequestIdValidation) {
  EXPECT_TRUE(valid_request_id("abc-123"));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("has space"));
  EXPECT_FALSE(valid_request_id("quote\""));
  EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
}

TEST(HttpUtil, UpstreamHeadDropsHopByHopAndSetsForwarding) {
  auto req = make_request({{"Host", "client.example"},
                           {"Connection", "keep-alive, X-Secret"},
                           {"X-Secret", "1"},
                           {"Keep-Alive", "timeout=5"},
                           {"TE", "trailers"},
                           {"Proxy-Connection", "keep-alive"},
                           {"X-Forwarded-For", "6.6.6.6"},
                           {"Accept", "*/*"},
                           {"Content-Length", "3"}});
  ForwardOptions o;
  o.method = "GET";
  o.path_and_query = "/x?a=1";
  o.upstream_host = "10.0.0.1:80";
  o.client_ip = "127.0.0.1";
  o.original_host = "client.example";
  o.request_id = "rid";
  o.has_length = true;
  o.content_length = 3;
  std::string head = build_upstream_head(req, o);
  EXPECT_EQ(head.rfind("GET /x?a=1 HTTP/1.1\r\nHost: 10.0.0.1:80\r\n", 0), 0u);
  EXPECT_EQ(head.find("X-Secret"), std::string::npos);
  EXPECT_EQ(head.find("Keep-Alive"), std::string::npos);
  EXPECT_EQ(head.find("TE:"), std::string::npos);
  EXPECT_EQ(head.find("Proxy-Connection"), std::string::npos);
  EXPECT_EQ(head.find("6.6.6.6"), std::string::npos);  // untrusted XFF replaced
  EXPECT_NE(head.find("X-Forwarded-For: 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-Host: client.example\r\n"), std::string::npos);
  EXPECT_NE(head.find("Via: 1.1 gatehouse\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Request-Id: rid\r\n"), std::string::npos);
  EXPECT_NE(head.find("Accept: */*\r\n"), std::string::npos);
  EXPECT_NE(head.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
}

TEST(HttpUtil, UpstreamHeadKeepsWebSocketUpgradeAndSaysHttps) {
  auto req = make_request({{"Host", "h"},
                           {"Connection", "Upgrade"},
                           {"Upgrade", "websocket"},
                           {"Sec-WebSocket-Key", "k"}});
  ForwardOptions o = get_options("/ws", "127.0.0.1");
  o.https = true;
  std::string plain = build_upstream_head(req, o);
  EXPECT_EQ(plain.find("Upgrade"), std::string::npos);  // hop-by-hop unless asked for
  EXPECT_NE(plain.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
  o.upgrade = "websocket";
  std::string ws = build_upstream_head(req, o);
  EXPECT_NE(ws.find("Connection: Upgrade\r\nUpgrade: websocket\r\n"), std::string::npos);
  EXPECT_NE(ws.find("Sec-WebSocket-Key: k\r\n"), std::string::npos);
}

TEST(HttpUtil, TrustedForwardedIsAppended) {
  auto req = make_request({{"Host", "h"}, {"X-Forwarded-For", "1.2.3.4"}, {"X-Forwarded-Proto", "https"}});
  ForwardOptions o = get_options("/", "10.1.1.1");
  o.trust_forwarded = true;
  std::string head = build_upstream_head(req, o);
  EXPECT_NE(head.find("X-Forwarded-For: 1.2.3.4, 10.1.1.1\r\n"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
}

TEST(HttpUtil, UntrustedForwardedIsDropped) {
  // An untrusted client's Forwarded is a claim like its X-Forwarded-For:
  // the upstream must not read "for=6.6.6.6" as the client's address.
  auto req = make_request({{"Host", "h"}, {"Forwarded", "for=6.6.6.6;proto=https"}});
  std::string head = build_upstream_head(req, get_options("/", "10.1.1.1"));
  EXPECT_EQ(head.find("Forwarded:"), std::string::npos);
  EXPECT_EQ(head.find("6.6.6.6"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-For: 10.1.1.1\r\n"), std::string::npos);
}

TEST(HttpUtil, TrustedForwardedGetsThisHopsElement) {
  auto req = make_request({{"Host", "h"},
                           {"Forwarded", "for=1.2.3.4;proto=https"},
                           {"Accept", "*/*"},
                           {"Forwarded", "for=5.6.7.8"}});
  ForwardOptions o = get_options("/", "10.1.1.1");
  o.trust_forwarded = true;
  o.original_host = "api.example";
  EXPECT_NE(build_upstream_head(req, o).find("Forwarded: for=1.2.3.4;proto=https, for=5.6.7.8, "
                                             "for=10.1.1.1;host=api.example;proto=http\r\n"),
            std::string::npos);
  // An IPv6 node is bracketed and quoted, a host with a port quoted (RFC 7239 4, 6).
  o.client_ip = "2001:db8::1";
  o.original_host = "api.example:8443";
  o.https = true;
  EXPECT_NE(build_upstream_head(req, o).find(
                ", for=\"[2001:db8::1]\";host=\"api.example:8443\";proto=https\r\n"),
            std::string::npos);
  // Without one from the LB, none is made up: X-Forwarded-* carry the same.
  auto plain = make_request({{"Host", "h"}});
  EXPECT_EQ(build_upstream_head(plain, o).find("Forwarded:"), std::string::npos);
}

TEST(HttpUtil, ListFieldsOnSeveralLinesAreOneList) {
  // RFC 9110 5.3: several X-Forwarded-For or Via lines are one list, in
  // order; an empty line adds no element.
  auto req = make_request({{"Host", "h"},
                           {"X-Forwarded-For", "1.1.1.1"},
                           {"Via", "1.0 a"},
                           {"X-Forwarded-For", ""},
                           {"X-Forwarded-For", "2.2.2.2, 3.3.3.3"},
                           {"Via", "1.1 b"}});
  ForwardOptions o = get_options("/", "10.1.1.1");
  o.trust_forwarded = true;
  std::string head = build_upstream_head(req, o);
  EXPECT_NE(head.find("X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.1.1.1\r\n"),
            std::string::npos);
  EXPECT_NE(head.find("Via: 1.0 a, 1.1 b, 1.1 gatehouse\r\n"), std::string::npos);
  o.trust_forwarded = false;
  head = build_upstream_head(req, o);
  EXPECT_NE(head.find("X-Forwarded-For: 10.1.1.1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Via: 1.0 a, 1.1 b, 1.1 gatehouse\r\n"),
            std::string::npos);  // Via is not a claim
  // A lone empty line is no list either.
  auto empty = make_request({{"Host", "h"}, {"X-Forwarded-For", ""}, {"Via", " "}});
  o.trust_forwarded = true;
  head = build_upstream_head(empty, o);
  EXPECT_NE(head.find("X-Forwarded-For: 10.1.1.1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Via: 1.1 gatehouse\r\n"), std::string::npos);

  http1::ResponseHead r;
  r.status = 200;
  r.headers = {{"Via", "1.1 inner"}, {"Content-Type", "text/plain"}, {"Via", "1.0 deeper"}};
  EXPECT_NE(build_downstream_head(r, 1, 0, false, "rid", true)
                .find("Via: 1.1 inner, 1.0 deeper, 1.1 gatehouse\r\n"),
            std::string::npos);
}

TEST(HttpUtil, DownstreamHeadFraming) {
  http1::ResponseHead r;
  r.status = 200;
  r.reason = "OK";
  r.headers = {{"Content-Length", "5"}, {"Connection", "close"}, {"Transfer-Encoding", "chunked"},
               {"Content-Type", "text/plain"}};
  std::string h = build_downstream_head(r, 1, 0, false, "rid", true);
  EXPECT_EQ(h.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(h.find("Content-Length: 5\r\n"), std::string::npos);
  EXPECT_EQ(h.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(h.find("Connection"), std::string::npos);
  EXPECT_NE(h.find("X-Request-Id: rid\r\n"), std::string::npos);
  std::string chunked = build_downstream_head(r, 1, 1, true, "rid", false);
  EXPECT_NE(chunked.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(chunked.find("Content-Length"), std::string::npos);
  EXPECT_NE(chunked.find("Connection: close\r\n"), std::string::npos);
  std::string v10 = build_downstream_head(r, 0, 0, false, "rid", true);
  EXPECT_EQ(v10.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
  EXPECT_NE(v10.find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(HttpUtil, DownstreamHeadNeverGivesA204AContentLength) {
  http1::ResponseHead r;
  r.status = 204;
  r.headers = {{"Content-Length", "5"}, {"ETag", "\"x\""}};
  std::string h = build_downstream_head(r, 1, 0, false, "rid", true);
  EXPECT_EQ(h.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  EXPECT_EQ(h.find("Content-Length"), std::string::npos);
  EXPECT_NE(h.find("ETag: \"x\"\r\n"), std::string::npos);
  r.status = 304;  // a 304 may carry the selected representation's length (8.6)
  EXPECT_NE(build_downstream_head(r, 1, 0, false, "rid", true).find("Content-Length: 5\r\n"),
            std::string::npos);
}

TEST(HttpUtil, ClassifyFieldIgnoresCaseAndTellsLookAlikesApart) {
  EXPECT_EQ(classify_field("Connection"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("KEEP-ALIVE"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("te"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("Expect"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("upgrade"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("Trailer"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("Proxy-Connection"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("Transfer-Encoding"), FieldKind::kHopByHop);
  EXPECT_EQ(classify_field("content-length"), FieldKind::kContentLength);
  EXPECT_EQ(classify_field("HOST"), FieldKind::kHost);
  EXPECT_EQ(classify_field("x-request-id"), FieldKind::kRequestId);
  EXPECT_EQ(classify_field("X-Forwarded-For"), FieldKind::kXForwardedFor);
  EXPECT_EQ(classify_field("X-Forwarded-Proto"), FieldKind::kXForwardedProto);
  EXPECT_EQ(classify_field("x-forwarded-host"), FieldKind::kXForwardedHost);
  EXPECT_EQ(classify_field("Via"), FieldKind::kVia);
  EXPECT_EQ(classify_field("FORWARDED"), FieldKind::kForwarded);
  // Same lengths as the names above, other names.
  for (std::string_view n :
       {"tx", "vib", "hoss", "forwardex", "expecs", "upgradx", "connectiox", "x-request-ix",
        "content-lengtx", "x-forwarded-foo", "proxy-connectiox", "transfer-encodinx",
        "x-forwarded-prox", "", "content-type"})
    EXPECT_EQ(classify_field(n), FieldKind::kOther) << n;
}

TEST(HttpUtil, ConnectionTokensAreViewsMatchedWithoutCase) {
  std::vector<http1::Header> hs = {{"Connection", " keep-alive ,X-A,, x-b "},
                                   {"X-A", "1"},
                                   {"connection", "X-C"}};
  ConnectionTokens t(hs);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_TRUE(t.contains("Keep-Alive"));
  EXPECT_TRUE(t.contains("x-a"));
  EXPECT_TRUE(t.contains("X-B"));
  EXPECT_TRUE(t.contains("x-c"));
  EXPECT_FALSE(t.contains("x-d"));
  EXPECT_FALSE(t.contains(""));
  // Past the inline eight, the rest spill to the heap and still count.
  std::string many;
  for (int i = 0; i < 12; ++i) many += "x-t" + std::to_string(i) + ",";
  std::vector<http1::Header> big = {{"Connection", many}};
  ConnectionTokens tb(big);
  EXPECT_EQ(tb.size(), 12u);
  EXPECT_TRUE(tb.contains("X-T0"));
  EXPECT_TRUE(tb.contains("x-t11"));
  EXPECT_FALSE(tb.contains("x-t12"));
}

TEST(HttpUtil, FieldsTheConnectionHeaderListsAreNeverForwarded) {
  // Listed in Connection, a forwarding or Via field is hop-by-hop: it is
  // neither forwarded nor taken as the client's claim, trusted or not.
  auto req = make_request({{"Host", "h"},
                           {"Connection", "X-Forwarded-For, via"},
                           {"X-Forwarded-For", "6.6.6.6"},
                           {"Via", "1.0 fake"},
                           {"Accept", "*/*"}});
  ForwardOptions o = get_options("/", "10.1.1.1");
  o.trust_forwarded = true;
  std::string head = build_upstream_head(req, o);
  EXPECT_EQ(head.find("6.6.6.6"), std::string::npos);
  EXPECT_EQ(head.find("fake"), std::string::npos);
  EXPECT_NE(head.find("X-Forwarded-For: 10.1.1.1\r\n"), std::string::npos);
  EXPECT_NE(head.find("Via: 1.1 gatehouse\r\n"), std::string::npos);
  EXPECT_NE(head.find("Accept: */*\r\n"), std::string::npos);

  http1::ResponseHead r;
  r.status = 200;
  r.headers = {{"Connection", "X-Internal, via"}, {"X-Internal", "1"}, {"Via", "1.1 inner"},
               {"X-Request-Id", "up"}, {"Content-Type", "text/plain"}};
  std::string down = build_downstream_head(r, 1, 0, false, "rid", true);
  EXPECT_EQ(down.find("X-Internal"), std::string::npos);
  EXPECT_EQ(down.find("inner"), std::string::npos);
  EXPECT_NE(down.find("Via: 1.1 gatehouse\r\n"), std::string::npos);
  EXPECT_NE(down.find("X-Request-Id: up\r\n"), std::string::npos);  // the upstream's own id kept
  EXPECT_EQ(down.find("X-Request-Id: rid"), std::string::npos);
  EXPECT_NE(down.find("Content-Type: text/plain\r\n"), std::string::npos);
}

TEST(HttpUtil, AcceptsTrailersFromTe) {
  auto with_te = [](std::vector<std::string> values) {
    http1::RequestHead h;
    for (auto& v : values) h.headers.push_back({"TE", v});
    return accepts_trailers(h);
  };
  EXPECT_TRUE(with_te({"trailers"}));
  EXPECT_TRUE(with_te({"gzip;q=0.5, Trailers"}));
  EXPECT_TRUE(with_te({"gzip", " trailers "}));
  EXPECT_FALSE(with_te({}));
  EXPECT_FALSE(with_te({"gzip, deflate"}));
  EXPECT_FALSE(with_te({"trailersx"}));
}

TEST(HttpUtil, LastChunkCarriesTrailers) {
  EXPECT_EQ(last_chunk({}), "0\r\n\r\n");
  EXPECT_EQ(last_chunk({{"grpc-status", "0"}}), "0\r\ngrpc-status: 0\r\n\r\n");
}

TEST(HttpUtil, MaxForwardsBindsOnlyOptionsAndTrace) {
  auto get = make_request({{"Max-Forwards", "0"}});
  EXPECT_EQ(step_max_forwards(get), MaxForwards::kAbsent);
  EXPECT_EQ(get.headers[0].value, "0");
  auto options = make_request({{"Host", "a"}});
  options.method = "OPTIONS";
  EXPECT_EQ(step_max_forwards(options), MaxForwards::kAbsent);
}

TEST(HttpUtil, MaxForwardsDecrementsAndCaps) {
  struct Case {
    const char* sent;
    MaxForwards want;
    const char* forwarded;
  };
  for (const Case& c :
       {Case{"0", MaxForwards::kAnswerHere, "0"}, Case{"1", MaxForwards::kForward, "0"},
        Case{" 7 ", MaxForwards::kForward, "6"}, Case{"000", MaxForwards::kAnswerHere, "000"},
        Case{"256", MaxForwards::kForward, "255"},
        Case{"184467440737095516160", MaxForwards::kForward, "255"},
        Case{"", MaxForwards::kInvalid, ""}, Case{"+1", MaxForwards::kInvalid, "+1"},
        Case{"1, 2", MaxForwards::kInvalid, "1, 2"}, Case{"0x1", MaxForwards::kInvalid, "0x1"}}) {
    for (const char* method : {"OPTIONS", "TRACE"}) {
      auto h = make_request({{"max-FORWARDS", c.sent}});
      h.method = method;
      EXPECT_EQ(step_max_forwards(h), c.want) << method << " " << c.sent;
      EXPECT_EQ(h.headers[0].value, c.forwarded) << method << " " << c.sent;
    }
  }
}

TEST(HttpUtil, MaxForwardsRejectsTwoFieldLinesAndTraceContent) {
  auto twice = make_request({{"Max-Forwards", "1"}, {"Max-Forwards", "1"}});
  twice.method = "OPTIONS";
  EXPECT_EQ(step_max_forwards(twice), MaxForwards::kInvalid);
  auto trace = make_request({});
  trace.method = "TRACE";
  trace.body = http1::BodyKind::kContentLength;
  trace.content_length = 0;  // an empty body is no content
  EXPECT_EQ(step_max_forwards(trace), MaxForwards::kAbsent);
  trace.content_length = 1;
  EXPECT_EQ(step_max_forwards(trace), MaxForwards::kTraceContent);
  trace.body = http1::BodyKind::kChunked;
  trace.content_length = 0;
  EXPECT_EQ(step_max_forwards(trace), MaxForwards::kTraceContent);
}

TEST(HttpUtil, TraceReflectionDropsCredentials) {
  auto h = make_request({{"Host", "a"},
                         {"Authorization", "Bearer s1"},
                         {"proxy-authorization", "Basic s2"},
                         {"Cookie", "sid=s3"},
                         {"X-Api-Key", "s4"},
                         {"X-Auth-Token", "s5"},
                         {"X-Trace", "kept"}});
  h.method = "TRACE";
  h.target = "/p?q=1";
  EXPECT_EQ(trace_reflection(h), "TRACE /p?q=1 HTTP/1.1\r\nHost: a\r\nX-Trace: kept\r\n\r\n");
  h.version_minor = 0;
  EXPECT_EQ(trace_reflection(h).substr(0, 23), "TRACE /p?q=1 HTTP/1.0\r\n");
}

TEST(HttpUtil, Idempotency) {
  EXPECT_TRUE(is_idempotent("GET"));
  EXPECT_TRUE(is_idempotent("PUT"));
  EXPECT_FALSE(is_idempotent("POST"));
  EXPECT_FALSE(is_idempotent("PATCH"));
}

}  // namespace
}  // namespace gatehouse::proxy
