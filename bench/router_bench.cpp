// Router microbenchmarks at 10,000 routes: 40% exact, 30% template, 25% prefix,
// 5% regex; one route in five is bound to a host (half exact, half wildcard).
// Built by CMake as build/router_bench (GATEHOUSE_BENCH=ON, the default).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "proxy/router.hpp"

namespace gatehouse::proxy {
namespace {

constexpr int kRoutes = 10'000;

struct Req {
  std::string method = "GET";
  std::string host = "any.test";
  std::string path;
  std::string query;
  std::vector<http1::Header> headers = {{"user-agent", "bench"}, {"accept", "*/*"}};
  RequestView view() const { return RequestView{method, host, path, query, &headers}; }
};

struct Fixture {
  std::vector<config::RouteConfig> routes;
  std::vector<Req> exact, templ, prefix, regex, host, miss;
  std::unique_ptr<Router> router;
};

Fixture make_fixture() {
  Fixture f;
  f.routes.reserve(kRoutes);
  for (int i = 0; i < kRoutes; ++i) {
    std::string n = std::to_string(i);
    config::RouteConfig r;
    r.name = "r" + n;
    r.order = i;
    Req req;
    int bucket = i % 20;
    std::vector<Req>* sink;
    if (bucket < 8) {
      r.match.paths = {{config::PathKind::kExact, "/svc" + n + "/v1/items"}};
      req.path = "/svc" + n + "/v1/items";
      sink = &f.exact;
    } else if (bucket < 14) {
      r.match.paths = {{config::PathKind::kTemplate, "/api/" + n + "/users/{id}/orders/{oid}"}};
      req.path = "/api/" + n + "/users/42/orders/7";
      sink = &f.templ;
    } else if (bucket < 19) {
      r.match.paths = {{config::PathKind::kPrefix, "/static/" + n}};
      req.path = "/static/" + n + "/css/site/main.css";
      sink = &f.prefix;
    } else {
      r.match.paths = {{config::PathKind::kRegex, "/rx/" + n + "/[0-9]+/[a-z]+"}};
      req.path = "/rx/" + n + "/123/abc";
      sink = &f.regex;
    }
    if (i % 10 == 3) {
      r.match.hosts = {"tenant" + std::to_string(i % 100) + ".example.com"};
      req.host = r.match.hosts[0];
      sink = &f.host;
    } else if (i % 10 == 7) {
      r.match.hosts = {"*.zone" + std::to_string(i % 40) + ".example.com"};
      req.host = "a.zone" + std::to_string(i % 40) + ".example.com";
      sink = &f.host;
    }
    if (i % 9 == 0) r.match.methods = {"GET", "POST"};
    f.routes.push_back(r);
    sink->push_back(std::move(req));
  }
  for (int i = 0; i < 64; ++i) {
    Req req;
    req.path = "/unknown/" + std::to_string(i) + "/some/deeper/path";
    f.miss.push_back(std::move(req));
  }
  auto built = Router::build(f.routes);
  if (!built.ok()) std::abort();
  f.router = std::move(built).value();
  return f;
}

const Fixture& fixture() {
  static const Fixture f = make_fixture();
  return f;
}

void run_match(benchmark::State& state, const std::vector<Req>& reqs, bool expect_hit) {
  const Router& router = *fixture().router;
  RouteMatch m;
  size_t i = 0;
  for (auto _ : state) {
    bool hit = router.match(reqs[i].view(), m);
    if (hit != expect_hit) state.SkipWithError("unexpected match result");
    benchmark::DoNotOptimize(m.route_index);
    if (++i == reqs.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_MatchExact(benchmark::State& s) {
  run_match(s, fixture().exact, true);
}
void BM_MatchTemplate(benchmark::State& s) {
  run_match(s, fixture().templ, true);
}
void BM_MatchPrefix(benchmark::State& s) {
  run_match(s, fixture().prefix, true);
}
void BM_MatchRegex(benchmark::State& s) {
  run_match(s, fixture().regex, true);
}
void BM_MatchHostBound(benchmark::State& s) {
  run_match(s, fixture().host, true);
}
void BM_MatchMiss(benchmark::State& s) {
  run_match(s, fixture().miss, false);
}

void BM_Build(benchmark::State& state) {
  const auto& routes = fixture().routes;
  for (auto _ : state) {
    auto r = Router::build(routes);  // the copy of the configs is part of build's cost
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * kRoutes);
}

BENCHMARK(BM_MatchExact);
BENCHMARK(BM_MatchTemplate);
BENCHMARK(BM_MatchPrefix);
BENCHMARK(BM_MatchRegex);
BENCHMARK(BM_MatchHostBound);
BENCHMARK(BM_MatchMiss);
BENCHMARK(BM_Build)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gatehouse::proxy

BENCHMARK_MAIN();
