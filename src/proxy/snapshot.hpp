// The immutable runtime view of the config. Built on the control thread,
// handed to every worker by post(); a request keeps the snapshot it started
// with, so a reload never changes anything under a request's feet.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ai/gateway/catalog.hpp"
#include "apim/spec_set.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/entities.hpp"
#include "mcp/server/handler.hpp"
#include "net/asio.hpp"
#include "net/http1/parser.hpp"
#include "net/tls/server.hpp"
#include "policies/policy.hpp"
#include "proxy/router.hpp"
#include "proxy/upstream/balancer.hpp"

// Declared only: snapshot.hpp is included widely and the transcoder's header
// changes with it (snapshot.cpp and forward_h2_call.hpp include it).
namespace gatehouse::transcode {
class Transcoder;
}

namespace gatehouse::proxy {

using EndpointList = std::vector<tcp::endpoint>;

// One target's resolved addresses; swapped by the DNS refresher.
struct TargetAddress {
  std::atomic<std::shared_ptr<const EndpointList>> endpoints;
  std::atomic<int64_t> resolved_at_ms{0};
  bool is_literal = false;  // IP literal: never re-resolved
};

// Node-wide state of one upstream. Reused by the next snapshot when the
// upstream's config is unchanged, so pools, health and ejections survive.
struct UpstreamShared {
  config::UpstreamConfig cfg;
  std::string fingerprint;
  std::vector<std::shared_ptr<TargetState>> states;
  std::vector<std::shared_ptr<TargetAddress>> addresses;
  // Upstream TLS (null for plain TCP): shared by every worker's connections.
  std::shared_ptr<asio::ssl::context> tls;
  metrics::Family<metrics::UpstreamShard>* stats = nullptr;
  // Circuit breaker and retry budget (node-wide).
  std::atomic<int> connections{0};
  std::atomic<int> pending{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> retries_in_flight{0};
  // Set by the control thread when no current snapshot uses this upstream;
  // its health-check and DNS tasks then stop.
  std::atomic<bool> retired{false};
};

struct RouteRuntime {
  metrics::Family<metrics::RouteShard>* stats = nullptr;
  int upstream = -1;  // index into Snapshot::upstreams
  config::TimeoutsConfig timeouts;  // effective (route override or upstream)
  policy::Chain chain;              // global + route policies, ordered by phase
  // Mock routes: the spec they answer from (in Snapshot::specs) and, when
  // the route names one, its operation.
  const apim::SpecEntry* mock_spec = nullptr;
  const apim::openapi::Operation* mock_operation = nullptr;
  // grpc_transcode routes: the compiled descriptor set and bindings.
  std::shared_ptr<const transcode::Transcoder> transcoder;
};

struct Snapshot {
  uint64_t generation = 0;
  config::Config config;
  std::unique_ptr<Router> router;
  std::vector<std::shared_ptr<UpstreamShared>> upstreams;
  std::vector<RouteRuntime> routes;  // by route index
  std::shared_ptr<const policy::ConsumerSet> consumers;
  // Per consumer (by Consumer::index): its own policies, phase-ordered, all
  // past authentication. Empty for most consumers.
  std::vector<policy::Chain> consumer_chains;
  http1::Limits limits;
  std::shared_ptr<const ai::gateway::Catalog> llm;  // null without an llm: section
  std::shared_ptr<const mcp::Runtime> mcp;          // null without an mcp: section
  // Downstream TLS (proxy_tls listener); null without certificates. Taken
  // over from the previous snapshot when files and settings are unchanged.
  std::shared_ptr<const net::tls::TlsServer> tls;
  // The OpenAPI documents routes and policies refer to by name; never null.
  std::shared_ptr<const apim::SpecSet> specs;
};

// Builds a snapshot; unchanged upstreams are taken over from `previous`.
Result<std::shared_ptr<const Snapshot>> build_snapshot(const config::Config& cfg,
                                                       const Snapshot* previous,
                                                       metrics::Registry& registry,
                                                       uint64_t generation);

// A stable text form of an upstream's config (reload reuse decision).
std::string upstream_fingerprint(const config::UpstreamConfig& u);

}  // namespace gatehouse::proxy
