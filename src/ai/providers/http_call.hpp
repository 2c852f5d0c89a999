// A plain HTTP/1.1 request to an LLM provider on the worker's io_context: one
// connection per call (no pooling yet), head parsed with our strict parser,
// body read as Content-Length, chunked or until close. Timeouts: connect, idle
// (no bytes for this long) and the whole call.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ai/providers/provider.hpp"
#include "config/loader.hpp"

namespace gatehouse::ai::providers {

struct HttpRequest {
  config::HttpUrl url;  // host, port, path prefix
  std::string path;     // appended to the prefix
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  config::TimeoutsConfig timeouts;
};

std::unique_ptr<Call> make_http_call(asio::any_io_executor ex, HttpRequest req);

// base_url prefix + an API path, where a prefix already ending in "/v1" is not
// repeated: ("", "/v1/messages") -> "/v1/messages", ("/v1", "/v1/messages")
// -> "/v1/messages", ("/api", ...) -> "/api/v1/messages".
std::string join_api_path(const std::string& prefix, std::string_view api_path);

}  // namespace gatehouse::ai::providers
