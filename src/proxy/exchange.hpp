// Per-request state shared by the downstream session and the upstream
// forwarding code. Lives in the request's coroutine frame.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "ai/gateway/gateway.hpp"
#include "mcp/server/handler.hpp"
#include "net/http1/parser.hpp"
#include "net/http1/path.hpp"
#include "policies/policy.hpp"
#include "proxy/router.hpp"
#include "proxy/snapshot.hpp"  // RouteRuntime: the templates below use its members

namespace gatehouse::proxy {

struct Snapshot;

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
  // Hooks run in this order: route chain [0, consumer_split), the consumer's
  // chain [0, consumer_run), route chain [consumer_split, policies_run),
  // skipping route policies the consumer's chain overrides by name.
  size_t policies_run = 0;
  size_t consumer_split = 0;
  const policy::Chain* consumer_chain = nullptr;
  size_t consumer_run = 0;

  // Outcome, for metrics and the access log.
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t start_us = 0;
  int64_t connect_us = -1;
  int64_t first_byte_us = -1;
  int retries = 0;
  int grpc_status = -1;  // gRPC requests: the call's grpc-status, -1 = none seen
  std::string upstream_target;
  std::string error;
  std::string mock;  // mock routes: how the answer was made (access log)
  std::unique_ptr<ai::gateway::Outcome> llm;  // AI routes only
  std::unique_ptr<mcp::Outcome> mcp;          // MCP routes only
};

// True when the consumer's own chain has a policy of this name, which then
// replaces the route's (or global) one for this request.
inline bool overridden_by_consumer(const Exchange& ex, const policy::Policy& p) {
  if (!ex.consumer_chain) return false;
  for (const auto& c : ex.consumer_chain->policies)
    if (c->name() == p.name()) return true;
  return false;
}

// Calls f(policy) for every policy whose request hook ran, in the order they
// ran (forward) or the reverse (response hooks: the first policy has the
// final say).
template <class F>
void for_each_policy_run(const Exchange& ex, bool reverse, F&& f) {
  const auto& chain = ex.route->chain.policies;
  const size_t run = std::min(ex.policies_run, chain.size());
  const size_t split = std::min(ex.consumer_split, run);
  const size_t crun = ex.consumer_chain ? std::min(ex.consumer_run, ex.consumer_chain->policies.size()) : 0;
  auto route_part = [&](size_t from, size_t to) {
    if (!reverse) {
      for (size_t i = from; i < to; ++i)
        if (!overridden_by_consumer(ex, *chain[i])) f(*chain[i]);
    } else {
      for (size_t i = to; i-- > from;)
        if (!overridden_by_consumer(ex, *chain[i])) f(*chain[i]);
    }
  };
  auto consumer_part = [&]() {
    const auto& cc = ex.consumer_chain->policies;
    if (!reverse) {
      for (size_t i = 0; i < crun; ++i) f(*cc[i]);
    } else {
      for (size_t i = crun; i-- > 0;) f(*cc[i]);
    }
  };
  if (!reverse) {
    route_part(0, split);
    if (crun) consumer_part();
    route_part(split, run);
  } else {
    route_part(split, run);
    if (crun) consumer_part();
    route_part(0, split);
  }
}

}  // namespace gatehouse::proxy
