// Per-request state shared by the downstream session and the upstream
// forwarding code. Lives in the request's coroutine frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "ai/gateway/gateway.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"
#include "policies/policy.hpp"
#include "proxy/router.hpp"

namespace gatehouse::proxy {

struct Snapshot;
struct RouteRuntime;

struct Exchange {
  std::shared_ptr<const Snapshot> snap;
  http1::RequestHead* head = nullptr;
  http1::NormalizedTarget target;
  std::string host;           // lower-case, without port (routing)
  std::string original_host;  // as the client sent it (X-Forwarded-Host)
  std::string request_id;
  RouteMatch match;
  const RouteRuntime* route = nullptr;
  bool method_head = false;
  bool idempotent = false;
  policy::RequestContext pctx;
  size_t policies_run = 0;  // on_log goes to these

  // Outcome, for metrics and the access log.
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t start_us = 0;
  int64_t connect_us = -1;
  int64_t first_byte_us = -1;
  int retries = 0;
  std::string upstream_target;
  std::string error;
  std::unique_ptr<ai::gateway::Outcome> llm;  // AI routes only
};

}  // namespace gatehouse::proxy
