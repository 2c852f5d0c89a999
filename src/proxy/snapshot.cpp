#include "proxy/snapshot.hpp"

#include <algorithm>
#include <sstream>

#include "config/loader.hpp"
#include "net/tls/client.hpp"
#include "transcode/transcoder.hpp"

namespace gatehouse::proxy {

std::string upstream_fingerprint(const config::UpstreamConfig& u) {
  // Every field that changes behaviour; tags and source positions do not.
  std::ostringstream o;
  o << u.name << '|';
  for (const auto& t : u.targets) o << t.address << '*' << t.weight << ',';
  o << '|' << static_cast<int>(u.balancer.kind) << static_cast<int>(u.balancer.hash_on)
    << u.balancer.hash_key;
  o << '|' << u.timeouts.connect_ms << ',' << u.timeouts.request_ms << ',' << u.timeouts.idle_ms;
  o << '|' << u.retries.attempts << ',' << u.retries.per_try_timeout_ms << ','
    << u.retries.backoff_base_ms << ',' << u.retries.backoff_max_ms << ','
    << u.retries.budget_percent << ',' << u.retries.min_retry_concurrency << ',';
  for (int s : u.retries.on_statuses) o << s << ';';
  for (int s : u.retries.on_grpc_statuses) o << 'g' << s << ';';
  o << "|p" << static_cast<int>(u.protocol);
  const auto& a = u.health_active;
  o << '|' << a.enabled << a.path << ',' << a.host << ',' << a.interval_ms << ',' << a.timeout_ms
    << ',' << a.healthy_threshold << ',' << a.unhealthy_threshold << ',';
  for (int s : a.healthy_statuses) o << s << ';';
  const auto& p = u.health_passive;
  o << '|' << p.enabled << ',' << p.consecutive_5xx << ',' << p.consecutive_connect_failures << ','
    << p.base_ejection_ms << ',' << p.max_ejection_ms << ',' << p.max_ejection_percent;
  o << '|' << u.pool.max_idle_per_target << ',' << u.pool.idle_timeout_ms << ','
    << u.pool.max_requests_per_connection;
  o << '|' << u.breaker.max_connections << ',' << u.breaker.max_pending << ','
    << u.breaker.max_requests << '|' << u.dns_refresh_ms;
  o << "|h2" << u.http2.ping_interval_ms << ',' << u.http2.ping_timeout_ms;
  // File contents are not part of it: a changed CA or client certificate
  // file is picked up when the upstream's config changes (or on restart).
  o << '|' << net::tls::upstream_tls_key(u.tls);
  return o.str();
}

namespace {

std::shared_ptr<UpstreamShared> make_upstream(const config::UpstreamConfig& u,
                                              metrics::Registry& registry) {
  auto up = std::make_shared<UpstreamShared>();
  up->cfg = u;
  up->fingerprint = upstream_fingerprint(u);
  up->stats = registry.upstream(u.name);
  for (const auto& t : u.targets) {
    up->states.push_back(std::make_shared<TargetState>());
    auto addr = std::make_shared<TargetAddress>();
    boost::system::error_code ec;
    auto ip = asio::ip::make_address(t.host, ec);
    if (!ec) {
      addr->is_literal = true;
      addr->endpoints.store(std::make_shared<const EndpointList>(
          EndpointList{tcp::endpoint(ip, t.port)}));
    } else {
      addr->endpoints.store(std::make_shared<const EndpointList>());
    }
    up->addresses.push_back(std::move(addr));
  }
  return up;
}

}  // namespace

Result<std::shared_ptr<const Snapshot>> build_snapshot(const config::Config& cfg,
                                                       const Snapshot* previous,
                                                       metrics::Registry& registry,
                                                       uint64_t generation) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->config = cfg;
  snap->limits.max_request_line = cfg.server.http.max_request_line;
  snap->limits.max_header_bytes = cfg.server.http.max_header_bytes;
  snap->limits.max_headers = cfg.server.http.max_headers;

  auto router = Router::build(cfg.routes);
  if (!router) return router.error();
  snap->router = std::move(router.value());

  std::unordered_map<std::string, int> index;
  for (const auto& u : cfg.upstreams) {
    std::shared_ptr<UpstreamShared> reused;
    if (previous) {
      for (const auto& old : previous->upstreams) {
        if (old->cfg.name == u.name && old->fingerprint == upstream_fingerprint(u)) {
          reused = old;
          break;
        }
      }
    }
    if (!reused) {
      reused = make_upstream(u, registry);
      if (u.tls.enabled) {
        auto ctx = net::tls::make_upstream_context(
            u.tls, "upstreams[" + std::to_string(snap->upstreams.size()) + "].tls");
        if (!ctx) return ctx.error();
        reused->tls = ctx.value();
      }
    }
    index[u.name] = static_cast<int>(snap->upstreams.size());
    snap->upstreams.push_back(reused);
  }

  if (!cfg.server.tls.certificates.empty()) {
    auto tls = net::tls::TlsServer::build(cfg.server.tls, previous ? previous->tls : nullptr,
                                          cfg.server.http2.enabled);
    if (!tls) return tls.error();
    snap->tls = tls.value();
  }

  auto specs = apim::SpecSet::build(cfg.specs, previous ? previous->specs.get() : nullptr);
  if (!specs) return specs.error();
  snap->specs = specs.value();

  if (!cfg.llm.providers.empty() || !cfg.llm.models.empty())
    snap->llm = ai::gateway::Catalog::build(cfg.llm, registry.workers());
  if (!cfg.mcp.servers.empty()) {
    auto rt = mcp::Runtime::build(cfg, snap->specs.get(), registry.workers(), generation,
                                  previous ? previous->mcp.get() : nullptr);
    if (!rt) return rt.error();
    snap->mcp = rt.value();
  }

  policy::register_builtin_policies();
  auto consumers = policy::build_consumers(cfg.consumers);
  if (!consumers) return consumers.error();
  snap->consumers = consumers.value();
  policy::BuildContext bctx;
  bctx.config = &cfg;
  bctx.consumers = snap->consumers.get();
  bctx.specs = snap->specs.get();
  bctx.workers = registry.workers();
  bctx.upstream_index = [&index](std::string_view name) {
    auto it = index.find(std::string(name));
    return it == index.end() ? -1 : it->second;
  };
  std::vector<std::shared_ptr<const policy::Policy>> global;
  for (size_t j = 0; j < cfg.policies.size(); ++j) {
    bctx.field = "policies[" + std::to_string(j) + "]";
    auto p = policy::compile(cfg.policies[j], bctx);
    if (!p) return p.error();
    global.push_back(p.value());
  }

  snap->consumer_chains.resize(cfg.consumers.size());
  for (size_t i = 0; i < cfg.consumers.size(); ++i) {
    auto& chain = snap->consumer_chains[i].policies;
    for (size_t j = 0; j < cfg.consumers[i].policies.size(); ++j) {
      bctx.field = "consumers[" + std::to_string(i) + "].policies[" + std::to_string(j) + "]";
      auto p = policy::compile(cfg.consumers[i].policies[j], bctx);
      if (!p) return p.error();
      // They run once a consumer is known, so nothing that comes before
      // (pre-auth checks, authentication itself) can be attached here.
      if (p.value()->phase() <= policy::Phase::kAuthn) {
        return make_error("policy_phase",
                          "policy '" + cfg.consumers[i].policies[j].name +
                              "' runs before a consumer is identified and cannot be attached "
                              "to a consumer",
                          bctx.field + ".name", 0, ErrorSide::kConfig);
      }
      chain.push_back(p.value());
    }
    std::stable_sort(chain.begin(), chain.end(),
                     [](const auto& a, const auto& b) { return a->phase() < b->phase(); });
  }

  for (size_t i = 0; i < cfg.routes.size(); ++i) {
    const auto& r = cfg.routes[i];
    RouteRuntime rt;
    rt.chain.policies = global;
    bctx.route = &r;
    for (size_t j = 0; j < r.policies.size(); ++j) {
      bctx.field = "routes[" + std::to_string(i) + "].policies[" + std::to_string(j) + "]";
      auto p = policy::compile(r.policies[j], bctx);
      if (!p) return p.error();
      rt.chain.policies.push_back(p.value());
    }
    bctx.route = nullptr;
    // Phase order, stable: global before route, list order within each.
    std::stable_sort(rt.chain.policies.begin(), rt.chain.policies.end(),
                     [](const auto& a, const auto& b) { return a->phase() < b->phase(); });
    rt.stats = registry.route(r.name);
    if (r.grpc_transcode) {
      std::vector<transcode::BuildProblem> tp;
      rt.transcoder = transcode::Transcoder::build(*r.grpc_transcode, tp);
      if (!rt.transcoder) {
        Error e =
            make_error("invalid_descriptor", tp.empty() ? "descriptor set unusable" : tp[0].message,
                       "routes[" + std::to_string(i) + "].grpc_transcode" +
                           (tp.empty() ? "" : "." + tp[0].where),
                       0, ErrorSide::kConfig);
        e.line = r.pos.line;
        e.column = r.pos.column;
        return e;
      }
    }
    if (r.mock) {  // answered from a spec (mock_route.cpp): no upstream
      std::string f = "routes[" + std::to_string(i) + "].mock";
      rt.mock_spec = snap->specs->find(r.mock->spec);
      if (!rt.mock_spec) {
        Error e = make_error("unknown_spec",
                             "route '" + r.name + "' mocks unknown spec '" + r.mock->spec + "'",
                             f + ".spec", 0, ErrorSide::kConfig);
        e.line = r.pos.line;
        e.column = r.pos.column;
        return e;
      }
      if (!r.mock->operation.empty()) {
        rt.mock_operation = apim::find_operation(*rt.mock_spec->document, r.mock->operation);
        if (!rt.mock_operation) {
          std::vector<std::string> ids;
          for (const auto& op : rt.mock_spec->document->operations)
            if (!op.operation_id.empty()) ids.push_back(op.operation_id);
          Error e = make_error("unknown_operation",
                               "spec '" + r.mock->spec + "' has no operation '" +
                                   r.mock->operation + "'" +
                                   config::did_you_mean(r.mock->operation, ids),
                               f + ".operation", 0, ErrorSide::kConfig);
          e.line = r.pos.line;
          e.column = r.pos.column;
          return e;
        }
      }
    }
    if (r.llm || r.mcp || r.mock) {  // served by the AI, MCP or mock route: no upstream
      if (r.timeouts) rt.timeouts = *r.timeouts;
      snap->routes.push_back(rt);
      continue;
    }
    auto it = index.find(r.upstream);
    if (it == index.end()) {
      return make_error("unknown_upstream",
                        "route '" + r.name + "' references unknown upstream '" + r.upstream + "'",
                        "routes[" + std::to_string(i) + "].upstream", 0, ErrorSide::kConfig);
    }
    rt.upstream = it->second;
    rt.timeouts = r.timeouts ? *r.timeouts : cfg.upstreams[static_cast<size_t>(it->second)].timeouts;
    snap->routes.push_back(rt);
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

}  // namespace gatehouse::proxy
