// A small outbound HTTP/1.1 client (Beast) for the gateway's own calls to
// identity providers, MCP servers and the like: http or https (certificate
// and host name verified, SNI), bounded by a timeout and a body limit.
// Connections are kept alive per io_context (up to 16 idle per scheme, host
// and port, 30 s): a response read to its end goes back to the pool. `http_open` is the streaming
// form (SSE bodies read as they arrive); `http_call` reads the whole body with it. Not the proxy
// path: upstream traffic goes through the pools.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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
  // false: timeout_ms bounds the whole exchange. true: it bounds connecting
  // up to the response head, then each body read (an idle timeout, for
  // streams that stay open as long as they carry events).
  bool timeout_per_read = false;
  size_t max_body = 1 << 20;  // http_call only; a stream's reader bounds what it keeps
  // https: the name sent as SNI (never for an IP literal) and that the
  // certificate must carry when the context verifies; empty = the URL's host
  // (an MCP server's tls.sni).
  std::string tls_name;
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

// The context for https URLs called without one of their own: the system
// trust store (OpenSSL's default paths; SSL_CERT_FILE / SSL_CERT_DIR move it).
std::shared_ptr<asio::ssl::context> default_tls_client_context();

// Checks that `url` is an absolute http(s) URL with a host; the error's
// message says what is wrong.
Result<void> check_http_url(const std::string& url);

// A response being read: the head is there, the body comes piece by piece.
// Owns the connection: closed when destroyed mid-body, back to the pool when
// the response was read to its end and both sides keep it alive.
class HttpClientStream {
 public:
  virtual ~HttpClientStream() = default;
  int status() const { return status_; }
  const std::string& content_type() const { return content_type_; }
  // The first response header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
  // The next piece of the body (valid until the next call); empty once the
  // body has ended (then done() is true).
  virtual awaitable<Result<std::string_view>> read_some() = 0;
  bool done() const { return done_; }

  // The caller has what it needs but the body goes on (an SSE answer whose
  // server closes the stream right after the response): the rest is read and
  // discarded in the background, up to 64 KiB and `max_wait_ms` per read, so
  // the connection can go back to the pool; otherwise it is closed.
  static void finish_later(std::unique_ptr<HttpClientStream> s, int64_t max_wait_ms);

 protected:
  virtual void limit_reads(int64_t max_wait_ms) = 0;
  virtual asio::any_io_executor executor() = 0;

  int status_ = 0;
  std::string content_type_;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool done_ = false;
};

// Sends the request and reads the response head on the calling coroutine's
// executor. `tls` verifies https peers (null: default_tls_client_context()); a kept-alive
// connection is reused only for the same context and tls_name. Errors carry code
// "http_client_failed" and a message naming the URL and the step (a certificate that
// fails verification: OpenSSL's reason, e.g. "unable to get local issuer certificate").
awaitable<Result<std::unique_ptr<HttpClientStream>>> http_open(
    const HttpClientRequest& req, std::shared_ptr<asio::ssl::context> tls);

// Performs the request on the calling coroutine's executor. `tls` as for
// http_open. Errors carry code "http_client_failed".
awaitable<Result<HttpClientResponse>> http_call(const HttpClientRequest& req,
                                                std::shared_ptr<asio::ssl::context> tls);

// Idle kept-alive connections the client holds for this io_context (tests, metrics).
size_t http_idle_connections(asio::execution_context& ctx);

}  // namespace gatehouse::net
