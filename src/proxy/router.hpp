// Router compiled from the route configs. Immutable after build(); shared by
// all workers through the snapshot, so match() must be const and lock-free.
//
// Precedence (documented in docs/routing.md):
//   1. host: exact host, then wildcard hosts (longest suffix first), then routes
//      without hosts. The first host group holding a matching route wins.
//   2. path kind: exact, then template (more literal segments first, then
//      longer), then regex, then prefix (longer first).
//   3. among routes with the same path key: more predicates (method, header,
//      query, cookie) first, then higher priority, then earlier in the config.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "config/entities.hpp"
#include "net/http1/parser.hpp"

namespace gatehouse::proxy {

struct RequestView {
  std::string_view method;
  std::string_view host;   // Host header without port, lower-cased by caller
  std::string_view path;   // canonical path (http1::normalize_target)
  std::string_view query;  // raw query, no '?'
  const std::vector<http1::Header>* headers = nullptr;
};

struct CompiledRoute;  // opaque outside router.cpp

struct RouteMatch {
  const config::RouteConfig* route = nullptr;  // points into the Router's copy
  size_t route_index = 0;                      // index in the config's routes
  std::vector<std::pair<std::string, std::string>> params;  // template captures
  std::string_view matched_prefix;             // for strip_prefix (prefix routes)
};

class Router {
 public:
  // Validates regexes and templates; errors carry field "routes[i].match.paths[j]".
  static Result<std::unique_ptr<Router>> build(std::vector<config::RouteConfig> routes);
  ~Router();

  // Returns false when nothing matches.
  bool match(const RequestView& req, RouteMatch& out) const;

  // Applies the route's rewrite rules to the canonical path; returns the path
  // to send upstream (query is appended by the caller).
  std::string rewrite_path(const RouteMatch& m, std::string_view path) const;

  const std::vector<config::RouteConfig>& routes() const { return routes_; }

 private:
  Router();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<config::RouteConfig> routes_;
};

}  // namespace gatehouse::proxy
