// Per-worker buffered JSON access log. Lines are flushed by the worker's tick
// or when the buffer fills, in writes of whole lines no larger than PIPE_BUF,
// so lines from different workers never interleave, even on a pipe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::proxy {

// AI routes: what the AI gateway did (logged as a nested "llm" object).
struct AccessLlm {
  std::string_view model;           // as the client asked
  std::string_view served_model;    // the model that answered (after fallbacks)
  std::string_view provider;
  std::string_view provider_model;
  int64_t input_tokens = 0;         // uncached input
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;        // includes reasoning
  int64_t reasoning_tokens = 0;
  bool usage_known = false;
  bool partial = false;
  bool stream = false;
  int attempts = 0;
  int cooldowns = 0;      // targets this request cooled down (Retry-After)
  int cooling_skips = 0;  // candidates skipped while cooling down
  int64_t ttft_us = -1;
  std::string_view guardrails;  // "blocked:pii.card", "masked:pii.email=2" (rules, never text)
  std::string_view cache;       // llm-cache: hit, miss, bypass; semantic-hit
  std::string_view semantic;    // llm-semantic-cache: hit, miss, bypass, skip, error
  double similarity = -1;       // llm-semantic-cache: closest entry; -1: none (not logged)
  double cost = -1;  // money from llm.prices; -1: unknown (not logged)
};

// MCP routes: the JSON-RPC message the request carried (the audit line of
// a tools/call; arguments only when the route logs them).
struct AccessMcp {
  std::string_view method;
  std::string_view server;     // the upstream that answered
  std::string_view name;       // tool, prompt or resource URI
  int64_t rpc_error = 0;       // JSON-RPC error code, 0 = success
  bool tool_error = false;     // tools/call result with isError
  std::string_view arguments;  // raw JSON, empty = not logged
  int64_t upstream_us = -1;
  std::string_view limited;    // "rate" / "quota": refused by a per-tool limit
};

struct AccessRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;       // canonical path
  std::string_view host;
  std::string_view route;      // empty when no route matched
  std::string_view upstream;
  std::string_view consumer;   // empty when anonymous / no auth policy
  std::string upstream_target; // "ip:port" of the last attempt
  std::string_view client;     // client ip
  std::string_view protocol;   // "HTTP/2" for HTTP/2 streams; empty (not written) for HTTP/1.x
  int status = 0;
  uint64_t bytes_in = 0;       // request body bytes
  uint64_t bytes_out = 0;      // response body bytes
  int64_t connect_us = -1;     // upstream connect time, -1 = pooled/none
  int64_t first_byte_us = -1;  // request start to first response byte
  int64_t total_us = 0;
  int retries = 0;
  int grpc_status = -1;        // gRPC calls: grpc-status (-1: not gRPC, not written)
  std::string_view error;      // error code when the gateway generated the answer
  std::string_view mock;       // mock routes: how the answer was made ("example:cats", "generated")
  std::string_view validation; // request-validation findings (report mode), empty = none
  const AccessLlm* llm = nullptr;
  const AccessMcp* mcp = nullptr;
  // TLS connections (scheme "https" when tls_version is set).
  std::string_view tls_version;
  std::string_view tls_cipher;
  std::string_view sni;
  std::string_view client_subject;  // verified client certificate
};

class AccessLog {
 public:
  // fd -1 disables logging.
  explicit AccessLog(int fd) : fd_(fd) {}
  ~AccessLog() { flush(); }
  bool enabled() const { return fd_ >= 0; }
  void write(const AccessRecord& r);
  void flush();

 private:
  int fd_;
  std::string buf_;
};

}  // namespace gatehouse::proxy
