#include "net/http1/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http1/parser_test_util.hpp"

namespace gatehouse::http1 {
namespace {

TEST(RequestHead, SimpleGet) {
  const std::string s = "GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  Req r = parse_req(s);
  ASSERT_EQ(r.status, ParseStatus::kComplete) << r.err.code;
  EXPECT_EQ(r.head.method, "GET");
  EXPECT_EQ(r.head.target, "/index.html?a=1");
  EXPECT_EQ(r.head.version_minor, 1);
  ASSERT_EQ(r.head.headers.size(), 2u);
  EXPECT_EQ(r.head.headers[0].name, "Host");
  EXPECT_EQ(r.head.headers[0].value, "example.com");
  EXPECT_EQ(r.head.body, BodyKind::kNone);
  EXPECT_TRUE(r.head.keep_alive);
  EXPECT_FALSE(r.head.expect_continue);
  EXPECT_FALSE(r.head.upgrade);
  EXPECT_EQ(r.head.head_bytes, s.size());
}

TEST(RequestHead, ValueOwsTrimmedAndInnerSpaceKept) {
  Req r = parse_req("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a  b \t \r\nX-Empty:\r\nX-E2:   \r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(*r.head.find("x-a"), "a  b");
  EXPECT_EQ(*r.head.find("X-EMPTY"), "");
  EXPECT_EQ(*r.head.find("x-e2"), "");
  EXPECT_EQ(*r.head.find("host"), "h");
}

TEST(RequestHead, FindIsCaseInsensitiveFirstMatch) {
  Req r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: one\r\nx-dup: two\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  ASSERT_NE(r.head.find("X-DUP"), nullptr);
  EXPECT_EQ(*r.head.find("X-DUP"), "one");
  EXPECT_EQ(r.head.find("missing"), nullptr);
  EXPECT_EQ(r.head.find("x-du"), nullptr);
}

TEST(RequestHead, ObsTextAllowedInValues) {
  Req r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nX-U: caf\xc3\xa9\xff\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(*r.head.find("x-u"), "caf\xc3\xa9\xff");
}

TEST(RequestHead, TokenMethodsAccepted) {
  for (std::string m : {"GET", "PATCH", "M-SEARCH", "X!#$%&'*+.^_`|~1"}) {
    Req r = parse_req(m + " / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(r.status, ParseStatus::kComplete) << m;
    EXPECT_EQ(r.head.method, m);
  }
}

TEST(RequestHead, Http10Defaults) {
  Req r = parse_req("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.version_minor, 0);
  EXPECT_FALSE(r.head.keep_alive);
  r = parse_req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.keep_alive);
  r = parse_req("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
}

TEST(RequestHead, ConnectionTokens) {
  Req r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
  r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: bar, close\r\n\r\n");
  EXPECT_FALSE(r.head.keep_alive);
  r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
  EXPECT_TRUE(r.head.keep_alive);
}

TEST(RequestHead, Upgrade) {
  Req r = parse_req(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.upgrade);
  r = parse_req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_FALSE(r.head.upgrade);
  r = parse_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
  EXPECT_FALSE(r.head.upgrade);
}

TEST(RequestHead, ExpectContinue) {
  Req r = parse_req(with_host("Content-Length: 3\r\nExpect: 100-Continue\r\n"));
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_TRUE(r.head.expect_continue);
  expect_req_error(with_host("Expect: 200-ok\r\n"), 417, "expectation_failed");
  expect_req_error(with_host("Expect:\r\n"), 417, "expectation_failed");
  // HTTP/1.0 clients cannot mean it (RFC 9110 10.1.1).
  r = parse_req("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(r.head.expect_continue);
}

TEST(RequestHead, LeadingEmptyLinesSkippedButCounted) {
  const std::string s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
  Req r = parse_req(s);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.head_bytes, s.size());
  EXPECT_EQ(r.head.method, "GET");
  expect_req_error("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare_lf");
  expect_req_error("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare_cr");
  EXPECT_EQ(parse_req("\r\n").status, ParseStatus::kIncomplete);
  EXPECT_EQ(parse_req("\r").status, ParseStatus::kIncomplete);
  EXPECT_EQ(parse_req("").status, ParseStatus::kIncomplete);
}

TEST(RequestHead, BadRequestLines) {
  expect_req_error("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request_line");
  expect_req_error("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_version");
  expect_req_error("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400, "bad_request_line");
  expect_req_error("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400, "bad_request_line");
  expect_req_error("GET /\r\nHost: h\r\n\r\n", 400, "bad_request_line");
  expect_req_error("GET\r\n\r\n", 400, "bad_request_line");
  expect_req_error(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_method");
  expect_req_error("G(ET / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_method");
  expect_req_error("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_method");
  expect_req_error("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request_target");
  expect_req_error("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request_target");
  expect_req_error("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bad_request_target");
  expect_req_error("GET / http/1.1\r\nHost: h\r\n\r\n", 400, "bad_version");
  expect_req_error("GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400, "bad_version");
  expect_req_error("GET / HTTP/1\r\nHost: h\r\n\r\n", 400, "bad_version");
}

TEST(RequestHead, UnsupportedVersions) {
  expect_req_error("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505, "unsupported_version");
  expect_req_error("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505, "unsupported_version");
  expect_req_error("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505, "unsupported_version");
  expect_req_error("GET / HTTP/3.0\r\n\r\n", 505, "unsupported_version");
}

TEST(RequestHead, BareLfAndCr) {
  expect_req_error("GET / HTTP/1.1\nHost: h\r\n\r\n", 400, "bare_lf");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\n\r\n", 400, "bare_lf");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\n\n", 400, "bare_lf");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX\n: y\r\n\r\n", 400, "bare_lf");
  expect_req_error("GET / HTTP/1.1\rHost: h\r\n\r\n", 400, "bare_cr");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400, "bare_cr");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\n\rX", 400, "bare_cr");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", 400, "bare_cr");
  expect_req_error("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare_cr");
  expect_req_error("GET /\n HTTP/1.1\r\nHost: h\r\n\r\n", 400, "bare_lf");
}

TEST(RequestHead, ObsFold) {
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400, "obs_fold");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400, "obs_fold");
  // Whitespace between the request line and the first field (RFC 9112 2.2).
  expect_req_error("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400, "obs_fold");
}

TEST(RequestHead, HeaderNameErrors) {
  expect_req_error("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "space_before_colon");
  expect_req_error("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400, "space_before_colon");
  expect_req_error(with_host("Content-Length : 5\r\n"), 400, "space_before_colon");
  expect_req_error("GET / HTTP/1.1\r\n: h\r\n\r\n", 400, "bad_header_name");
  expect_req_error("GET / HTTP/1.1\r\nHo@st: h\r\n\r\n", 400, "bad_header_name");
  expect_req_error("GET / HTTP/1.1\r\nHo\"st: h\r\n\r\n", 400, "bad_header_name");
  expect_req_error("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "bad_header_name");
  expect_req_error("GET / HTTP/1.1\r\nX\xc3\xa9: h\r\n\r\n", 400, "bad_header_name");
  expect_req_error("GET / HTTP/1.1\r\nX\0Y: h\r\n\r\n"s, 400, "bad_header_name");
}

TEST(RequestHead, HeaderValueErrors) {
  expect_req_error("GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n"s, 400, "bad_header_value");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n", 400, "bad_header_value");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n", 400, "bad_header_value");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\x0b\r\n\r\n", 400, "bad_header_value");
  expect_req_error("GET / HTTP/1.1\r\nHost: h\x1b[0m\r\n\r\n", 400, "bad_header_value");
}

TEST(RequestHead, HostRules) {
  expect_req_error("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400, "missing_host");
  expect_req_error("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "duplicate_host");
  expect_req_error("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400, "duplicate_host");
  EXPECT_EQ(parse_req("GET / HTTP/1.1\r\nHost:\r\n\r\n").status, ParseStatus::kComplete);
}

// ---------------------------------------------------------------------------------------
// Framing and smuggling

TEST(RequestFraming, ContentLength) {
  Req r = parse_req(with_host("Content-Length: 42\r\n"));
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.body, BodyKind::kContentLength);
  EXPECT_EQ(r.head.content_length, 42u);
  r = parse_req(with_host("Content-Length: 0\r\n"));
  EXPECT_EQ(r.head.body, BodyKind::kContentLength);
  EXPECT_EQ(r.head.content_length, 0u);
  r = parse_req(with_host("content-length:  7 \r\n"));  // OWS around the value is not part of it
  EXPECT_EQ(r.head.content_length, 7u);
  r = parse_req(with_host("Content-Length: 007\r\n"));
  EXPECT_EQ(r.head.content_length, 7u);
  r = parse_req(with_host("Content-Length: 4611686018427387904\r\n"));  // 2^62
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.content_length, uint64_t{1} << 62);
}

TEST(RequestFraming, ContentLengthListsAndDuplicates) {
  Req r = parse_req(with_host("Content-Length: 5, 5\r\n"));
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.content_length, 5u);
  r = parse_req(with_host("Content-Length: 5,5,5\r\nContent-Length: 5\r\n"));
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.content_length, 5u);
  expect_req_error(with_host("Content-Length: 5, 6\r\n"), 400, "bad_content_length");
  expect_req_error(with_host("Content-Length: 5\r\nContent-Length: 6\r\n"), 400,
                   "bad_content_length");
  expect_req_error(with_host("Content-Length: 5\r\nContent-Length: 0\r\n"), 400,
                   "bad_content_length");
  expect_req_error(with_host("Content-Length: 5,\r\n"), 400, "bad_content_length");
  expect_req_error(with_host("Content-Length: ,5\r\n"), 400, "bad_content_length");
}

TEST(RequestFraming, MalformedContentLength) {
  for (const char* v : {"+5", "-1", "0x5", "5 5", "5a", "", "1e3", "5.0", "\"5\"", "\t",
                        "99999999999999999999999", "18446744073709551616",
                        "4611686018427387905", "\xef\xbc\x95"}) {
    expect_req_error(with_host(std::string("Content-Length: ") + v + "\r\n"), 400,
                     "bad_content_length");
  }
}

TEST(RequestFraming, Chunked) {
  for (const char* v : {"chunked", "Chunked", "CHUNKED", "chunked   ", "\tchunked"}) {
    Req r = parse_req(with_host(std::string("Transfer-Encoding: ") + v + "\r\n"));
    ASSERT_EQ(r.status, ParseStatus::kComplete) << v << " " << r.err.code;
    EXPECT_EQ(r.head.body, BodyKind::kChunked);
  }
}

TEST(RequestFraming, UnsupportedTransferEncodings) {
  for (const char* v : {"gzip", "identity", "chunked, chunked", "gzip, chunked", "chunked, gzip",
                        "chunked,", ",chunked", "xchunked", "chunked;q=1", "chunk", "",
                        "\"chunked\"", "chunked x"}) {
    expect_req_error(with_host(std::string("Transfer-Encoding: ") + v + "\r\n"), 501,
                     "unsupported_transfer_encoding");
  }
  // A list split over several lines counts as one list.
  expect_req_error(with_host("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 501,
                   "unsupported_transfer_encoding");
  expect_req_error(with_host("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501,
                   "unsupported_transfer_encoding");
  // Control bytes around "chunked" never reach the TE logic.
  expect_req_error(with_host("Transfer-Encoding: \x0b" "chunked\r\n"), 400, "bad_header_value");
  expect_req_error(with_host("Transfer-Encoding:\r\n chunked\r\n"), 400, "obs_fold");
}

TEST(RequestFraming, ClAndTe) {
  expect_req_error(with_host("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400,
                   "cl_and_te");
  expect_req_error(with_host("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400,
                   "cl_and_te");
  expect_req_error(with_host("Transfer-Encoding: gzip\r\nContent-Length: 0\r\n"), 400,
                   "cl_and_te");
  expect_req_error(with_host("Content-Length: 0\r\nTransfer-Encoding: CHUNKED\r\n"), 400,
                   "cl_and_te");
}

TEST(RequestFraming, TeInHttp10) {
  expect_req_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "te_in_http10");
}

TEST(RequestFraming, NoBodyWithoutFraming) {
  Req r = parse_req("POST / HTTP/1.1\r\nHost: h\r\n\r\nbody-is-next-request");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.body, BodyKind::kNone);
}

TEST(RequestHead, Pipelined) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  const std::string buf = first + second;
  Req r = parse_req(buf);
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.head.head_bytes, first.size());
  EXPECT_EQ(r.head.target, "/1");
  EXPECT_TRUE(r.head.keep_alive);
  Req r2 = parse_req(std::string_view(buf).substr(r.head.head_bytes));
  ASSERT_EQ(r2.status, ParseStatus::kComplete);
  EXPECT_EQ(r2.head.target, "/2");
  EXPECT_EQ(r2.head.head_bytes, second.size());
  EXPECT_FALSE(r2.head.keep_alive);
}

TEST(RequestHead, EverySplitPointIsIncompleteThenComplete) {
  const std::vector<std::string> requests = {
      "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
      "\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nContent-Length: 5, 5\r\n"
      "X-Empty:\r\nX-Spaces: \t v \t\r\n\r\n",
      "PUT /c HTTP/1.1\r\nhost: h\r\ntransfer-encoding: Chunked\r\nExpect: 100-continue\r\n\r\n",
      "GET / HTTP/1.0\r\n\r\n",
  };
  for (const std::string& s : requests) {
    Req full = parse_req(s);
    ASSERT_EQ(full.status, ParseStatus::kComplete) << full.err.code;
    for (size_t i = 0; i < s.size(); ++i) {
      Req part = parse_req(std::string_view(s).substr(0, i));
      EXPECT_EQ(part.status, ParseStatus::kIncomplete) << "prefix " << i << " of " << s;
    }
    // Extra bytes after the head never change the result.
    Req more = parse_req(s + "GET / HTTP/1.1\r\n");
    ASSERT_EQ(more.status, ParseStatus::kComplete);
    EXPECT_EQ(more.head.head_bytes, s.size());
    EXPECT_EQ(more.head.headers.size(), full.head.headers.size());
  }
}

TEST(RequestHead, ErrorsAreFoundWhateverTheSplit) {
  // Every prefix is either still incomplete or already the final error.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", "bare_lf"},
      {"GET / HTTP/1.1\r\nHost: h\r\n fold\r\n\r\n", "obs_fold"},
      {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", "space_before_colon"},
      {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       "cl_and_te"},
  };
  for (const auto& [s, code] : cases) {
    for (size_t i = 0; i <= s.size(); ++i) {
      Req part = parse_req(std::string_view(s).substr(0, i));
      if (part.status == ParseStatus::kError) {
        EXPECT_EQ(part.err.code, code) << "prefix " << i;
      } else {
        EXPECT_EQ(part.status, ParseStatus::kIncomplete) << "prefix " << i;
      }
    }
    EXPECT_EQ(parse_req(s).status, ParseStatus::kError);
  }
}

TEST(RequestHead, HeadReuseClearsPreviousState) {
  RequestHead head;
  ParseError err;
  ASSERT_EQ(parse_request_head(with_host("Content-Length: 5\r\nExpect: 100-continue\r\n"), {}, head,
                               err),
            ParseStatus::kComplete);
  ASSERT_EQ(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\n\r\n", {}, head, err),
            ParseStatus::kComplete);
  EXPECT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(head.body, BodyKind::kNone);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_FALSE(head.expect_continue);
}

TEST(RequestHead, StopBytesFoundAtEveryWordOffset) {
  // The value and target scanners read 8 bytes at a time; a bad byte must be caught
  // wherever it falls inside or across those words.
  for (size_t k = 0; k < 40; ++k) {
    const std::string pre(k, 'a');
    const std::string post(17, 'b');
    for (char bad : {'\0', '\x01', '\x0b', '\x1f', '\x7f'}) {
      expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX: " + pre + bad + post + "\r\n\r\n", 400,
                       "bad_header_value");
    }
    expect_req_error("GET / HTTP/1.1\r\nHost: h\r\nX: " + pre + "\n" + post + "\r\n\r\n", 400,
                     "bare_lf");
    for (char ok : {'\t', ' ', '\x80', '\xff', '~', '!'}) {
      Req r = parse_req("GET / HTTP/1.1\r\nHost: h\r\nX: " + pre + ok + post + "\r\n\r\n");
      ASSERT_EQ(r.status, ParseStatus::kComplete) << k << " " << int(ok);
      EXPECT_EQ(*r.head.find("x"), (pre + ok + post).substr(k == 0 && (ok == ' ' || ok == '\t')));
    }
    for (char bad : {'\t', '\x80', '\x7f', '\x01'}) {
      expect_req_error("GET /" + pre + bad + post + " HTTP/1.1\r\nHost: h\r\n\r\n", 400,
                       "bad_request_target");
    }
    Req r = parse_req("GET /" + pre + post + " HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(r.status, ParseStatus::kComplete);
    EXPECT_EQ(r.head.target, "/" + pre + post);
  }
}

TEST(RequestHead, ReuseAcrossErrorsAndSizes) {
  RequestHead head;
  ParseError err;
  std::string many = "GET /many HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 20; ++i) many += "X-Long-" + std::to_string(i) + ": " + std::string(40, 'v') + "\r\n";
  ASSERT_EQ(parse_request_head(many + "\r\n", {}, head, err), ParseStatus::kComplete);
  EXPECT_EQ(head.headers.size(), 21u);
  ASSERT_EQ(parse_request_head("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB : 2\r\n\r\n", {}, head, err),
            ParseStatus::kError);
  EXPECT_EQ(err.code, "space_before_colon");
  ASSERT_EQ(parse_request_head("GET /two HTTP/1.1\r\nhost: x\r\nY: z\r\n\r\n", {}, head, err),
            ParseStatus::kComplete);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "host");
  EXPECT_EQ(head.headers[0].value, "x");
  EXPECT_EQ(head.headers[1].name, "Y");
  EXPECT_EQ(head.headers[1].value, "z");
  EXPECT_EQ(head.target, "/two");
  ASSERT_EQ(parse_request_head(many + "\r\n", {}, head, err), ParseStatus::kComplete);
  EXPECT_EQ(head.headers.size(), 21u);
  EXPECT_EQ(head.headers[20].value, std::string(40, 'v'));
}

// ---------------------------------------------------------------------------------------
// Limits

}  // namespace
}  // namespace gatehouse::http1
