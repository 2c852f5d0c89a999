// A small outbound HTTP/1.1 client (Beast) for the gateway's own calls to
// identity providers and the like: one request per connection, http or https
// (certificate and host name verified, SNI), bounded by a timeout and a body
// limit. Not the proxy path: upstream traffic goes through the pools.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "net/asio.hpp"

namespace gatehouse::net {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 5'000;
  size_t max_body = 1 << 20;
};

struct HttpClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// A TLS client context verifying peers with the system CAs plus `ca_file`
// (when not empty); TLS 1.2 or later. Build once and share: it is safe to
// use from several threads.
Result<std::shared_ptr<asio::ssl::context>> make_tls_client_context(const std::string& ca_file);

// Checks that `url` is an absolute http(s) URL with a host; the error's
// message says what is wrong.
Result<void> check_http_url(const std::string& url);

// Performs the request on the calling coroutine's executor. `tls` is needed
// for https URLs (an error otherwise). Errors carry code "http_client_failed".
awaitable<Result<HttpClientResponse>> http_call(const HttpClientRequest& req,
                                                std::shared_ptr<asio::ssl::context> tls);

}  // namespace gatehouse::net
