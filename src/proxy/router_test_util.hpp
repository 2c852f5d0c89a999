// Shared helpers of the router_test test files.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proxy/router.hpp"

namespace gatehouse::proxy {
namespace router_test_util {

using config::PathKind;
using config::PathPattern;
using config::RouteConfig;
using config::ValueMatch;

// Parses the YAML path syntax the way the config loader does.
inline PathPattern pat(std::string_view s) {
  if (!s.empty() && s.front() == '=') return {PathKind::kExact, std::string(s.substr(1))};
  if (!s.empty() && s.front() == '~') return {PathKind::kRegex, std::string(s.substr(1))};
  if (s.find('{') != std::string_view::npos) return {PathKind::kTemplate, std::string(s)};
  return {PathKind::kPrefix, std::string(s)};
}

inline RouteConfig route(std::string name, std::vector<std::string> paths = {},
                         std::vector<std::string> hosts = {}) {
  RouteConfig r;
  r.name = std::move(name);
  for (const auto& p : paths) r.match.paths.push_back(pat(p));
  r.match.hosts = std::move(hosts);
  return r;
}

struct Req {
  std::string method = "GET";
  std::string host = "any.test";
  std::string path = "/";
  std::string query;
  std::vector<http1::Header> headers;

  RequestView view() const { return RequestView{method, host, path, query, &headers}; }
};

inline Req get(std::string path, std::string host = "any.test") {
  Req r;
  r.path = std::move(path);
  r.host = std::move(host);
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  void build(std::vector<RouteConfig> routes) {
    for (size_t i = 0; i < routes.size(); ++i) routes[i].order = i;
    auto r = Router::build(std::move(routes));
    ASSERT_TRUE(r.ok()) << r.error().field << ": " << r.error().message;
    router_ = std::move(r).value();
  }

  // Name of the winning route, "" when nothing matches.
  std::string winner(const Req& req) {
    last_ = RouteMatch{};
    if (!router_->match(req.view(), last_)) return "";
    EXPECT_EQ(last_.route, &router_->routes()[last_.route_index]);
    return last_.route->name;
  }
  std::string winner(std::string path) { return winner(get(std::move(path))); }

  std::unique_ptr<Router> router_;
  RouteMatch last_;
};

// --- paths -------------------------------------------------------------------

}  // namespace router_test_util
using namespace router_test_util;
}  // namespace gatehouse::proxy
