// Shared helpers of the parser_test test files.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::http1 {
namespace parser_test_util {

using namespace std::string_literals;

struct Req {
  ParseStatus status;
  RequestHead head;
  ParseError err;
};

inline Req parse_req(std::string_view s, const Limits& limits = {}) {
  Req r;
  r.status = parse_request_head(s, limits, r.head, r.err);
  return r;
}

struct Resp {
  ParseStatus status;
  ResponseHead head;
  ParseError err;
};

inline Resp parse_resp(std::string_view s, std::string_view method = "GET",
                       const Limits& limits = {}) {
  Resp r;
  r.status = parse_response_head(s, limits, method, r.head, r.err);
  return r;
}

// Expects a request to be rejected with `status` and `code`.
inline void expect_req_error(std::string_view s, int status, const std::string& code,
                             const Limits& limits = {}) {
  SCOPED_TRACE(std::string(s));
  Req r = parse_req(s, limits);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.err.status, status);
  EXPECT_EQ(r.err.code, code);
  EXPECT_FALSE(r.err.message.empty());
}

inline void expect_resp_error(std::string_view s, const std::string& code,
                              std::string_view method = "GET") {
  SCOPED_TRACE(std::string(s));
  Resp r = parse_resp(s, method);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.err.status, 502);
  EXPECT_EQ(r.err.code, code);
}

inline std::string with_host(std::string_view extra_headers) {
  return "POST /x HTTP/1.1\r\nHost: h\r\n" + std::string(extra_headers) + "\r\n";
}

// ---------------------------------------------------------------------------------------
// Request line and basics

}  // namespace parser_test_util
using namespace parser_test_util;
}  // namespace gatehouse::http1
