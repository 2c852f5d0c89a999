#include "common/metrics.hpp"

#include <cstdio>

namespace gatehouse::metrics {

void Histogram::observe_us(uint64_t us) {
  double s = static_cast<double>(us) / 1e6;
  size_t i = 0;
  while (i < kLatencyBuckets.size() && s > kLatencyBuckets[i]) ++i;
  buckets[i].inc();
  count.inc();
  sum_us.inc(us);
}

Registry::Registry(size_t workers) : workers_(workers), worker_shards_(workers) {}

Family<RouteShard>* Registry::route(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& f = routes_[name];
  if (!f) f = std::make_unique<Family<RouteShard>>(workers_);
  return f.get();
}

Family<UpstreamShard>* Registry::upstream(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& f = upstreams_[name];
  if (!f) f = std::make_unique<Family<UpstreamShard>>(workers_);
  return f.get();
}

std::string label_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void append_histogram(std::string& out, const std::string& name, const std::string& labels,
                      const std::array<uint64_t, kLatencyBuckets.size() + 1>& buckets,
                      uint64_t count, uint64_t sum_us) {
  uint64_t cumulative = 0;
  char num[64];
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    std::string le = "+Inf";
    if (i < kLatencyBuckets.size()) {
      std::snprintf(num, sizeof num, "%g", kLatencyBuckets[i]);
      le = num;
    }
    out += name + "_bucket{" + labels + (labels.empty() ? "" : ",") + "le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  std::snprintf(num, sizeof num, "%.6f", static_cast<double>(sum_us) / 1e6);
  out += name + "_sum{" + labels + "} " + num + "\n";
  out += name + "_count{" + labels + "} " + std::to_string(count) + "\n";
}

template <class Shard, class F>
uint64_t sum(const Family<Shard>& fam, F get) {
  uint64_t total = 0;
  for (const auto& s : fam.shards()) total += get(*s);
  return total;
}

template <class Shard>
void sum_histogram(const Family<Shard>& fam, Histogram Shard::*member,
                   std::array<uint64_t, kLatencyBuckets.size() + 1>& b, uint64_t& count,
                   uint64_t& sum_us) {
  b.fill(0);
  count = 0;
  sum_us = 0;
  for (const auto& s : fam.shards()) {
    const Histogram& h = (*s).*member;
    for (size_t i = 0; i < b.size(); ++i) b[i] += h.buckets[i].get();
    count += h.count.get();
    sum_us += h.sum_us.get();
  }
}

}  // namespace

std::string Registry::render(const std::string& extra) const {
  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mu_);

  int64_t active = 0;
  uint64_t accepted = 0, requests = 0, parse_errors = 0, no_route = 0, tls_errors = 0, mocks = 0;
  for (const auto& w : worker_shards_.v) {
    active += w->active_connections.get();
    accepted += w->accepted.get();
    requests += w->requests.get();
    parse_errors += w->parse_errors.get();
    no_route += w->no_route.get();
    tls_errors += w->tls_handshake_errors.get();
    mocks += w->mock_responses.get();
  }
  out += "# HELP gatehouse_active_connections Open downstream connections.\n"
         "# TYPE gatehouse_active_connections gauge\n"
         "gatehouse_active_connections " + std::to_string(active) + "\n";
  out += "# HELP gatehouse_connections_accepted_total Downstream connections accepted.\n"
         "# TYPE gatehouse_connections_accepted_total counter\n"
         "gatehouse_connections_accepted_total " + std::to_string(accepted) + "\n";
  out += "# HELP gatehouse_requests_total Downstream requests with a parsed head.\n"
         "# TYPE gatehouse_requests_total counter\n"
         "gatehouse_requests_total " + std::to_string(requests) + "\n";
  out += "# HELP gatehouse_request_parse_errors_total Requests rejected by the HTTP parser.\n"
         "# TYPE gatehouse_request_parse_errors_total counter\n"
         "gatehouse_request_parse_errors_total " + std::to_string(parse_errors) + "\n";
  out += "# HELP gatehouse_no_route_total Requests that matched no route.\n"
         "# TYPE gatehouse_no_route_total counter\n"
         "gatehouse_no_route_total " + std::to_string(no_route) + "\n";
  out += "# HELP gatehouse_tls_handshake_errors_total Downstream TLS handshakes that failed or timed out.\n"
         "# TYPE gatehouse_tls_handshake_errors_total counter\n"
         "gatehouse_tls_handshake_errors_total " + std::to_string(tls_errors) + "\n";
  out += "# HELP gatehouse_mock_responses_total Answers made by mock routes from an OpenAPI document.\n"
         "# TYPE gatehouse_mock_responses_total counter\n"
         "gatehouse_mock_responses_total " + std::to_string(mocks) + "\n";
  out += "# HELP gatehouse_config_reloads_total Successful config reloads.\n"
         "# TYPE gatehouse_config_reloads_total counter\n"
         "gatehouse_config_reloads_total " + std::to_string(reloads_total.load()) + "\n";
  out += "# HELP gatehouse_config_reload_errors_total Config reloads rejected by validation.\n"
         "# TYPE gatehouse_config_reload_errors_total counter\n"
         "gatehouse_config_reload_errors_total " + std::to_string(reload_errors_total.load()) + "\n";
  out += "# HELP gatehouse_config_generation Generation of the config in force.\n"
         "# TYPE gatehouse_config_generation gauge\n"
         "gatehouse_config_generation " + std::to_string(config_generation.load()) + "\n";
  out += "# HELP gatehouse_config_last_reload_duration_ms Time to build the last snapshot.\n"
         "# TYPE gatehouse_config_last_reload_duration_ms gauge\n"
         "gatehouse_config_last_reload_duration_ms " + std::to_string(last_reload_ms.load()) + "\n";

  out += "# HELP gatehouse_route_requests_total Requests by route and status class.\n"
         "# TYPE gatehouse_route_requests_total counter\n";
  static const char* kClasses[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (const auto& [name, fam] : routes_) {
    std::string route = label_escape(name);
    for (size_t c = 0; c < 6; ++c) {
      uint64_t v = sum(*fam, [c](const RouteShard& s) { return s.by_class[c].get(); });
      if (v == 0) continue;
      out += "gatehouse_route_requests_total{route=\"" + route + "\",status_class=\"" +
             kClasses[c] + "\"} " + std::to_string(v) + "\n";
    }
  }
  out += "# HELP gatehouse_route_grpc_total gRPC calls by route and grpc-status.\n"
         "# TYPE gatehouse_route_grpc_total counter\n";
  for (const auto& [name, fam] : routes_) {
    std::string route = label_escape(name);
    for (size_t c = 0; c < 17; ++c) {
      uint64_t v = sum(*fam, [c](const RouteShard& s) { return s.grpc[c].get(); });
      if (v == 0) continue;
      out += "gatehouse_route_grpc_total{route=\"" + route + "\",grpc_status=\"" +
             std::to_string(c) + "\"} " + std::to_string(v) + "\n";
    }
  }
  out += "# HELP gatehouse_route_bytes_total Body bytes by route and direction.\n"
         "# TYPE gatehouse_route_bytes_total counter\n";
  for (const auto& [name, fam] : routes_) {
    std::string route = label_escape(name);
    out += "gatehouse_route_bytes_total{route=\"" + route + "\",direction=\"in\"} " +
           std::to_string(sum(*fam, [](const RouteShard& s) { return s.bytes_in.get(); })) + "\n";
    out += "gatehouse_route_bytes_total{route=\"" + route + "\",direction=\"out\"} " +
           std::to_string(sum(*fam, [](const RouteShard& s) { return s.bytes_out.get(); })) + "\n";
  }
  out += "# HELP gatehouse_route_request_duration_seconds Total request time by route.\n"
         "# TYPE gatehouse_route_request_duration_seconds histogram\n";
  for (const auto& [name, fam] : routes_) {
    std::array<uint64_t, kLatencyBuckets.size() + 1> b{};
    uint64_t count = 0, sum_us = 0;
    sum_histogram(*fam, &RouteShard::latency, b, count, sum_us);
    append_histogram(out, "gatehouse_route_request_duration_seconds",
                     "route=\"" + label_escape(name) + "\"", b, count, sum_us);
  }

  struct UpCounter {
    const char* name;
    const char* help;
    Counter UpstreamShard::*member;
  };
  static const UpCounter kUp[] = {
      {"gatehouse_upstream_requests_total", "Requests sent to the upstream (incl. retries).",
       &UpstreamShard::requests},
      {"gatehouse_upstream_failures_total", "Connect errors, resets and timeouts.",
       &UpstreamShard::failures},
      {"gatehouse_upstream_retries_total", "Retried attempts.", &UpstreamShard::retries},
      {"gatehouse_upstream_timeouts_total", "Attempts that timed out.", &UpstreamShard::timeouts},
      {"gatehouse_upstream_breaker_rejections_total", "Requests refused by the circuit breaker.",
       &UpstreamShard::breaker_rejections},
  };
  for (const auto& c : kUp) {
    out += std::string("# HELP ") + c.name + " " + c.help + "\n# TYPE " + c.name + " counter\n";
    for (const auto& [name, fam] : upstreams_) {
      auto m = c.member;
      out += std::string(c.name) + "{upstream=\"" + label_escape(name) + "\"} " +
             std::to_string(sum(*fam, [m](const UpstreamShard& s) { return (s.*m).get(); })) + "\n";
    }
  }
  out += "# HELP gatehouse_upstream_pool_connections Pooled upstream connections by state.\n"
         "# TYPE gatehouse_upstream_pool_connections gauge\n";
  for (const auto& [name, fam] : upstreams_) {
    int64_t idle = 0, busy = 0;
    for (const auto& s : fam->shards()) {
      idle += s->pool_idle.get();
      busy += s->pool_active.get();
    }
    out += "gatehouse_upstream_pool_connections{upstream=\"" + label_escape(name) +
           "\",state=\"idle\"} " + std::to_string(idle) + "\n";
    out += "gatehouse_upstream_pool_connections{upstream=\"" + label_escape(name) +
           "\",state=\"active\"} " + std::to_string(busy) + "\n";
  }
  out += "# HELP gatehouse_upstream_connect_duration_seconds Upstream TCP connect time.\n"
         "# TYPE gatehouse_upstream_connect_duration_seconds histogram\n";
  for (const auto& [name, fam] : upstreams_) {
    std::array<uint64_t, kLatencyBuckets.size() + 1> b{};
    uint64_t count = 0, sum_us = 0;
    sum_histogram(*fam, &UpstreamShard::connect_latency, b, count, sum_us);
    append_histogram(out, "gatehouse_upstream_connect_duration_seconds",
                     "upstream=\"" + label_escape(name) + "\"", b, count, sum_us);
  }
  out += extra;
  return out;
}

}  // namespace gatehouse::metrics
