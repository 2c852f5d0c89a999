// An HTTP/1.1 request to an LLM provider on the worker's io_context, over
// plain TCP or TLS (certificate and host name verified, SNI). Connections are
// kept alive per io_context and reused by later calls to the same origin, so
// a worker pays the TCP and TLS handshakes once rather than per call. Head
// parsed with our strict parser, body read as Content-Length, chunked or until
// close. Timeouts: connect (including the TLS handshake), idle (no bytes for
// this long) and the whole call.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "ai/providers/provider.hpp"
#include "config/loader.hpp"

namespace gatehouse::ai::providers {

struct HttpRequest {
  config::HttpUrl url;  // host, port, path prefix
  std::string path;     // appended to the prefix
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  config::TimeoutsConfig timeouts;
  std::shared_ptr<asio::ssl::context> tls;  // required for https URLs
};

// The TLS client context for a provider's base_url: null for http, else one
// verifying with the system CAs plus the provider's ca_file.
Result<std::shared_ptr<asio::ssl::context>> provider_tls_context(const config::LlmProviderConfig& cfg);

// Idle provider connections kept by the calling thread's io_context (tests).
size_t idle_provider_connections(asio::any_io_executor ex);

std::unique_ptr<Call> make_http_call(asio::any_io_executor ex, HttpRequest req);

// RFC 3986 percent-encoding of all but the unreserved characters (and '/'
// when keep_slash), upper-case hex: model names in paths, SigV4's canonical URI.
std::string percent_encode(std::string_view s, bool keep_slash = false);

// The Host header value the call sends for `url` (the port only when not the
// scheme's default); request signing (Bedrock's SigV4) must sign the same.
std::string host_header(const config::HttpUrl& url);

// What the HTTP providers share: the parsed base_url and its TLS context, and
// the request skeleton every call starts from, so a provider file only adds
// its path and auth.
class HttpProvider : public Provider {
 protected:
  explicit HttpProvider(const config::LlmProviderConfig& cfg);
  // A POST of `body` to `path` (under base_url's prefix) with Accept, the
  // operator's headers, the provider's timeouts and TLS context.
  HttpRequest request(std::string path, std::string body, std::string_view accept) const;

  config::HttpUrl url_;
  std::shared_ptr<asio::ssl::context> tls_;
};

// base_url prefix + an API path, where a prefix already ending in "/v1" is not
// repeated: ("", "/v1/messages") -> "/v1/messages", ("/v1", "/v1/messages")
// -> "/v1/messages", ("/api", ...) -> "/api/v1/messages".
std::string join_api_path(const std::string& prefix, std::string_view api_path);

}  // namespace gatehouse::ai::providers
