#include "net/http1/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http1/parser_test_util.hpp"

namespace gatehouse::http1 {
namespace {

TEST(RequestLimits, RequestLineLength) {
  Limits l;
  l.max_request_line = 32;
  // "GET " + target + " HTTP/1.1" == 32 bytes exactly: accepted.
  const std::string target = "/" + std::string(32 - 4 - 9 - 1, 'a');
  std::string ok = "GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
  EXPECT_EQ(parse_req(ok, l).status, ParseStatus::kComplete);
  std::string too_long = "GET " + target + "b HTTP/1.1\r\nHost: h\r\n\r\n";
  expect_req_error(too_long, 414, "uri_too_long", l);
  // Rejected as soon as the buffer shows it, before the line ends.
  expect_req_error("GET /" + std::string(40, 'a'), 414, "uri_too_long", l);
  expect_req_error(std::string(40, 'G'), 414, "uri_too_long", l);
  // A line of exactly the limit waiting for its CRLF is still fine.
  EXPECT_EQ(parse_req("GET " + target + " HTTP/1.1", l).status, ParseStatus::kIncomplete);
  EXPECT_EQ(parse_req("GET " + target + " HTTP/1.1\r", l).status, ParseStatus::kIncomplete);
}

TEST(RequestLimits, HeaderBytes) {
  Limits l;
  l.max_header_bytes = 64;
  const std::string base = "GET / HTTP/1.1\r\nHost: h\r\nX: ";  // 28 bytes
  const std::string exact = base + std::string(64 - base.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(exact.size(), 64u);
  Req r = parse_req(exact, l);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.err.code;
  EXPECT_EQ(r.head.head_bytes, 64u);
  // One more byte: too large.
  const std::string over = base + std::string(64 - base.size() - 3, 'v') + "\r\n\r\n";
  expect_req_error(over, 431, "headers_too_large", l);
  // Also when incomplete but already past the limit.
  expect_req_error(base + std::string(100, 'v'), 431, "headers_too_large", l);
  // Exactly the limit and still incomplete: it can no longer fit.
  expect_req_error(base + std::string(64 - base.size(), 'v'), 431, "headers_too_large", l);
  EXPECT_EQ(parse_req(exact.substr(0, 63), l).status, ParseStatus::kIncomplete);
  // Leading empty lines count.
  expect_req_error("\r\n" + exact, 431, "headers_too_large", l);
  // A complete head followed by plenty of body is fine.
  r = parse_req(exact + std::string(1000, 'b'), l);
  EXPECT_EQ(r.status, ParseStatus::kComplete);
}

TEST(RequestLimits, HeaderCount) {
  Limits l;
  l.max_headers = 3;
  EXPECT_EQ(parse_req("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", l).status,
            ParseStatus::kComplete);
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431,
                   "headers_too_large", l);
  // As soon as the fourth line starts.
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC", 431, "headers_too_large", l);
}

TEST(RequestLimits, ManyHeadersDefault) {
  std::string s = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 99; ++i) s += "X-" + std::to_string(i) + ": v\r\n";
  Req r = parse_req(s + "\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.headers.size(), 100u);
  expect_req_error(s + "One-Too-Many: v\r\n\r\n", 431, "headers_too_large");
}

// ---------------------------------------------------------------------------------------
// Responses

TEST(ResponseHead, ContentLength) {
  const std::string s = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Type: text/plain\r\n\r\n";
  Resp r = parse_resp(s + "hello world!");
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.err.code;
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(r.head.reason, "OK");
  EXPECT_EQ(r.head.version_minor, 1);
  EXPECT_EQ(r.head.body, BodyKind::kContentLength);
  EXPECT_EQ(r.head.content_length, 12u);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_EQ(r.head.head_bytes, s.size());
  EXPECT_EQ(*r.head.find("content-type"), "text/plain");
  EXPECT_EQ(r.head.find("x"), nullptr);
}

TEST(ResponseHead, ChunkedAndUntilClose) {
  Resp r = parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(r.head.body, BodyKind::kChunked);
  EXPECT_TRUE(r.head.keep_alive);
  r = parse_resp("HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(r.head.body, BodyKind::kUntilClose);
  EXPECT_FALSE(r.head.keep_alive);
  r = parse_resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
  r = parse_resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(r.head.keep_alive);
  r = parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(ResponseHead, BodylessStatusesAndHead) {
  for (int code : {100, 101, 103, 199, 204, 304}) {
    const std::string s = "HTTP/1.1 " + std::to_string(code) +
                          " X\r\nContent-Length: 10\r\n\r\n";
    Resp r = parse_resp(s);
    ASSERT_EQ(r.status, ParseStatus::kComplete) << code;
    EXPECT_EQ(r.head.body, BodyKind::kNone) << code;
    EXPECT_TRUE(r.head.keep_alive);
  }
  Resp r = parse_resp("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(r.head.body, BodyKind::kNone);
  r = parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "HEAD");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.body, BodyKind::kNone);
  EXPECT_EQ(r.head.content_length, 0u);
  r = parse_resp("HTTP/1.1 200 OK\r\n\r\n", "HEAD");
  EXPECT_EQ(r.head.body, BodyKind::kNone);
  EXPECT_TRUE(r.head.keep_alive);
  r = parse_resp("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT");
  EXPECT_EQ(r.head.body, BodyKind::kNone);
  r = parse_resp("HTTP/1.1 205 Reset\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.head.body, BodyKind::kContentLength);
}

TEST(ResponseHead, StatusLineVariants) {
  Resp r = parse_resp("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.status, 404);
  EXPECT_EQ(r.head.reason, "");
  r = parse_resp("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.reason, "");
  r = parse_resp("HTTP/1.1 500 Internal \t Server Error \xc3\xa9\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.reason, "Internal \t Server Error \xc3\xa9");
  r = parse_resp("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, ParseStatus::kComplete);
}

TEST(ResponseHead, Errors) {
  expect_resp_error("HTTP/1.1 20 OK\r\n\r\n", "bad_status");
  expect_resp_error("HTTP/1.1 2000 OK\r\n\r\n", "bad_status_line");
  expect_resp_error("HTTP/1.1 abc OK\r\n\r\n", "bad_status");
  expect_resp_error("HTTP/1.1 099 OK\r\n\r\n", "bad_status");
  expect_resp_error("HTTP/1.1  200 OK\r\n\r\n", "bad_status");
  expect_resp_error("HTTP/2.0 200 OK\r\n\r\n", "unsupported_version");
  expect_resp_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "cl_and_te");
  expect_resp_error("HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "bad_content_length");
  expect_resp_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                    "unsupported_transfer_encoding");
  expect_resp_error("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "te_in_http10");
  expect_resp_error("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare_lf");
  expect_resp_error("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", "bare_lf");
  expect_resp_error("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obs_fold");
  expect_resp_error("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", "space_before_colon");
  expect_resp_error("HTTP/1.1 200 O\x01K\r\n\r\n", "bad_status_line");
  expect_resp_error("http/1.1 200 OK\r\n\r\n", "bad_version");
  expect_resp_error("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Length: 0\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n",
                    "cl_and_te", "HEAD");
}

TEST(ResponseHead, Limits) {
  Limits l;
  l.max_request_line = 16;
  Resp r = parse_resp("HTTP/1.1 200 A very long reason phrase\r\n\r\n", "GET", l);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.err.status, 502);
  EXPECT_EQ(r.err.code, "status_line_too_long");
  l = Limits{};
  l.max_header_bytes = 40;
  r = parse_resp("HTTP/1.1 200 OK\r\nX: " + std::string(40, 'x'), "GET", l);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.err.status, 502);
  EXPECT_EQ(r.err.code, "headers_too_large");
}

TEST(ResponseHead, EverySplitPoint) {
  const std::string s =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  const size_t head = s.size() - 5;
  for (size_t i = 0; i < head; ++i) {
    Resp part = parse_resp(std::string_view(s).substr(0, i));
    EXPECT_EQ(part.status, ParseStatus::kIncomplete) << i;
  }
  Resp r = parse_resp(s);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.head_bytes, head);
}

// ---------------------------------------------------------------------------------------
// Chunked decoder

struct Decoded {
  std::string data;
  size_t consumed = 0;
  bool done = false;
  bool error = false;
  std::string code;
};

// Feeds `pieces` in order, as a connection would, stopping at done or error.
Decoded decode_pieces(const std::vector<std::string>& pieces, ChunkedDecoder dec = ChunkedDecoder{}) {
  Decoded out;
  for (const std::string& piece : pieces) {
    ChunkedDecoder::Output o = dec.feed(piece);
    for (std::string_view d : o.data) {
      EXPECT_GE(d.data(), piece.data());
      EXPECT_LE(d.data() + d.size(), piece.data() + piece.size());
      out.data.append(d);
    }
    out.consumed += o.consumed;
    if (o.error) {
      out.error = true;
      out.code = o.error_code;
      return out;
    }
    if (o.done) {
      EXPECT_TRUE(dec.done());
      out.done = true;
      return out;
    }
    EXPECT_EQ(o.consumed, piece.size());
  }
  return out;
}

Decoded decode(const std::string& s, ChunkedDecoder dec = ChunkedDecoder{}) {
  return decode_pieces({s}, std::move(dec));
}

void expect_chunk_error(const std::string& s, const std::string& code) {
  SCOPED_TRACE(s);
  Decoded d = decode(s);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.code, code);
  // Same verdict fed byte by byte.
  std::vector<std::string> bytes;
  for (char c : s) bytes.emplace_back(1, c);
  Decoded b = decode_pieces(bytes);
  EXPECT_TRUE(b.error);
  EXPECT_EQ(b.code, code);
}

TEST(Chunked, Basic) {
  const std::string s = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Decoded d = decode(s);
  EXPECT_FALSE(d.error);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "hello world");
  EXPECT_EQ(d.consumed, s.size());
}

TEST(Chunked, HexSizesAndLeadingZeros) {
  const std::string big(0x1a, 'z');
  Decoded d = decode("1A\r\n" + big + "\r\n001a\r\n" + big + "\r\n0000\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, big + big);
  d = decode("a\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "0123456789");
}

TEST(Chunked, StopsAtEndOfMessage) {
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  const std::string s = body + "GET /next HTTP/1.1\r\n";
  ChunkedDecoder dec;
  ChunkedDecoder::Output o = dec.feed(s);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, body.size());
  o = dec.feed("more");
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.consumed, 0u);
  EXPECT_TRUE(o.data.empty());
}

TEST(Chunked, ByteByByteAndEverySplit) {
  const std::string s =
      "4;ext=val;flag\r\nWiki\r\n5 ; q=\"a\\\"b;c\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
      "0;last\r\nX-Trailer: v\r\nChecksum: abc\r\n\r\n";
  const std::string expected = "Wikipedia in\r\n\r\nchunks.";
  Decoded whole = decode(s);
  ASSERT_FALSE(whole.error) << whole.code;
  EXPECT_TRUE(whole.done);
  EXPECT_EQ(whole.data, expected);

  std::vector<std::string> bytes;
  for (char c : s) bytes.emplace_back(1, c);
  Decoded b = decode_pieces(bytes);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.data, expected);
  EXPECT_EQ(b.consumed, s.size());

  for (size_t i = 0; i <= s.size(); ++i) {
    for (size_t j = i; j <= s.size(); j += 7) {
      Decoded d = decode_pieces({s.substr(0, i), s.substr(i, j - i), s.substr(j)});
      ASSERT_TRUE(d.done) << i << "," << j << " " << d.code;
      ASSERT_EQ(d.data, expected) << i << "," << j;
      ASSERT_EQ(d.consumed, s.size());
    }
  }
}

TEST(Chunked, EmptyFeeds) {
  ChunkedDecoder dec;
  EXPECT_EQ(dec.feed("").consumed, 0u);
  Decoded d = decode_pieces({"", "2\r", "", "\nab", "", "\r\n0\r\n", "", "\r\n"});
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "ab");
}

TEST(Chunked, SizeErrors) {
  expect_chunk_error("\r\n", "bad_chunk_size");
  expect_chunk_error("x\r\n", "bad_chunk_size");
  expect_chunk_error("0x5\r\nhello\r\n0\r\n\r\n", "bad_chunk_size");
  expect_chunk_error("-5\r\nhello\r\n", "bad_chunk_size");
  expect_chunk_error("+5\r\nhello\r\n", "bad_chunk_size");
  expect_chunk_error(" 5\r\nhello\r\n", "bad_chunk_size");
  expect_chunk_error("5g\r\nhello\r\n", "bad_chunk_size");
  expect_chunk_error("4000000000000001\r\n", "chunk_size_overflow");
  expect_chunk_error("ffffffffffffffff\r\n", "chunk_size_overflow");
  expect_chunk_error("10000000000000000000\r\n", "chunk_size_overflow");
  // 2^62 itself is a legal (if absurd) size.
  Decoded d = decode("4000000000000000\r\nabc");
  EXPECT_FALSE(d.error);
  EXPECT_EQ(d.data, "abc");
}

TEST(Chunked, ExtensionErrors) {
  expect_chunk_error("5 \r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a=\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a \r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a=b c\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a=\"unterminated\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a=\"x\"y\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a@b\r\nhello\r\n", "bad_chunk_ext");
  expect_chunk_error("5;a=\"\0\"\r\nhello\r\n"s, "bad_chunk_ext");
  // Valid ones for contrast.
  for (const char* ext : {";a", ";a=b", " ;a", "\t; a = b", ";a=\"\"", ";a=\"x y\\\\\";b"}) {
    Decoded d = decode(std::string("5") + ext + "\r\nhello\r\n0\r\n\r\n");
    EXPECT_TRUE(d.done) << ext << " " << d.code;
    EXPECT_EQ(d.data, "hello");
  }
}

TEST(Chunked, LineEndingErrors) {
  expect_chunk_error("5\nhello\r\n", "bare_lf");
  expect_chunk_error("5\r\nhello\n0\r\n\r\n", "bare_lf");
  expect_chunk_error("5\r\nhello\rX", "bare_cr");
  expect_chunk_error("5\r\nhelloX\r\n", "bad_chunk_terminator");
  expect_chunk_error("5\r\nhello world\r\n", "bad_chunk_terminator");
  expect_chunk_error("5\rx\nhello\r\n", "bare_cr");
  expect_chunk_error("0\r\n\n", "bare_lf");
  expect_chunk_error("0\r\nX: y\n\r\n", "bare_lf");
}

TEST(Chunked, Trailers) {
  Decoded d = decode("0\r\nX-A: 1\r\nX-B:\r\n\r\n");
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "");
  expect_chunk_error("0\r\n folded\r\n\r\n", "obs_fold");
  expect_chunk_error("0\r\nX : y\r\n\r\n", "space_before_colon");
  expect_chunk_error("0\r\n: y\r\n\r\n", "bad_header_name");
  expect_chunk_error("0\r\nnocolon\r\n\r\n", "bad_header_name");
  expect_chunk_error("0\r\nX: a\x01\r\n\r\n", "bad_header_value");
}

TEST(Chunked, Limits) {
  ChunkedDecoder small_line(8, 64);
  Decoded d = decode("5;abcdefgh\r\nhello\r\n", small_line);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.code, "chunk_line_too_long");
  // Detected while the line is still open.
  ChunkedDecoder open_line(8, 64);
  ChunkedDecoder::Output o = open_line.feed("0000000000000");
  EXPECT_TRUE(o.error);
  EXPECT_EQ(o.error_code, "chunk_line_too_long");
  // A line of exactly max_line is fine, also split right before LF.
  d = decode_pieces({"5;abcdef\r", "\nhello\r\n0\r\n\r\n"}, ChunkedDecoder(8, 64));
  EXPECT_TRUE(d.done) << d.code;

  ChunkedDecoder small_trailers(4096, 16);
  d = decode("0\r\nX-A: 123456\r\nX-B: 123456\r\n\r\n", small_trailers);
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.code, "trailers_too_large");
  d = decode("0\r\nX-A: 12345678901234567890\r\n\r\n", ChunkedDecoder(4096, 16));
  EXPECT_TRUE(d.error);
  EXPECT_EQ(d.code, "trailers_too_large");
}

TEST(Chunked, ErrorIsSticky) {
  ChunkedDecoder dec;
  ChunkedDecoder::Output o = dec.feed("zz\r\n");
  ASSERT_TRUE(o.error);
  o = dec.feed("5\r\nhello\r\n");
  EXPECT_TRUE(o.error);
  EXPECT_EQ(o.error_code, "bad_chunk_size");
  EXPECT_EQ(o.consumed, 0u);
  EXPECT_TRUE(o.data.empty());
  EXPECT_FALSE(dec.done());
}

TEST(Chunked, DataSpansPointIntoInput) {
  ChunkedDecoder dec;
  const std::string s = "3\r\nabc\r\n2\r\nde\r\n";
  ChunkedDecoder::Output o = dec.feed(s);
  ASSERT_EQ(o.data.size(), 2u);
  EXPECT_EQ(o.data[0].data(), s.data() + 3);
  EXPECT_EQ(o.data[1].data(), s.data() + 11);
  EXPECT_EQ(o.consumed, s.size());
  EXPECT_FALSE(o.done);
}

TEST(Tchar, Classes) {
  EXPECT_TRUE(is_tchar('a'));
  EXPECT_TRUE(is_tchar('~'));
  EXPECT_TRUE(is_tchar('!'));
  EXPECT_FALSE(is_tchar(':'));
  EXPECT_FALSE(is_tchar(' '));
  EXPECT_FALSE(is_tchar('"'));
  EXPECT_FALSE(is_tchar(0));
  EXPECT_FALSE(is_tchar(0x80));
  EXPECT_FALSE(is_tchar('('));
  EXPECT_FALSE(is_tchar('@'));
}

}  // namespace
}  // namespace gatehouse::http1
