// AWS Signature Version 4 (header form) for the Bedrock provider, written from
// AWS's "Create a signed AWS API request" specification: canonical request ->
// string to sign -> HMAC-SHA256 key chain (OpenSSL) -> Authorization header.
// Checked against AWS's published SigV4 test suite in sigv4_test.cpp.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::ai::sigv4 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials (STS); empty when none
};

struct Request {
  std::string method;
  std::string path;   // as sent on the wire: already percent-encoded once
  std::string query;  // as sent, without '?'
  // Every header to sign, Host and X-Amz-Date included (any case, any order).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header's value
};

// `amz_date` is the X-Amz-Date value ("20150830T123600Z"); its first eight
// characters are the scope's date.
Signed sign(const Request& r, const Credentials& c, std::string_view region,
            std::string_view service, std::string_view amz_date);

// X-Amz-Date for a time: ISO 8601 basic format in UTC.
std::string amz_date(std::chrono::system_clock::time_point t);

// RFC 3986 percent-encoding of everything but unreserved characters (and '/'
// when keep_slash), upper-case hex, as SigV4 requires.
std::string uri_encode(std::string_view s, bool keep_slash);

}  // namespace gatehouse::ai::sigv4
