// Import: an OpenAPI document -> gateway config items (the YAML/admin-API
// shape of upstreams and routes), one route per operation. Pure: the caller
// decides where the items go (a file, the store, a deployment).
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <string>
#include <vector>

#include "apim/openapi/document.hpp"
#include "common/result.hpp"

namespace gatehouse::apim::openapi {

struct ImportOptions {
  std::string api;      // route name prefix, [A-Za-z0-9._-]; required
  std::string version;  // optional, part of route names so versions coexist
  // The upstream the routes use. Empty: one is generated (named like the
  // routes' prefix) from `upstream_url`, else from the first absolute server.
  std::string upstream;
  std::string upstream_url;       // http://host[:port][/base]; its path is the base path
  std::vector<std::string> tags;  // added to every item
  // Per security scheme: the policy to use instead of the derived one
  // ({name, config}); same effect as x-gatehouse-policy on the scheme.
  std::map<std::string, boost::json::object> auth;
  // oauth2 and openIdConnect schemes: "jwt" (default) or "oauth2-introspection".
  std::string oauth2_policy = "jwt";
  boost::json::object oauth2_config;
  // Extra policies on every route, after the derived ones (lifecycle headers).
  boost::json::array policies;
  // Request validation: when set, every route gets the `request-validation`
  // policy for this spec (a SpecSet name, "API@VERSION" for deployments)
  // and the route's operation; `validation_responses` is "off" or "report".
  std::string validation_spec;
  bool validate_requests = true;
  std::string validation_responses = "off";
};

struct ImportResult {
  boost::json::array upstreams;  // 0 or 1 items
  boost::json::array routes;     // document order
  std::string base_path;         // prefix of every route path ("/v1"), "" for none
  std::vector<std::string> warnings;
};

// Route names are deterministic (api[.version].operationId, or method and
// path when there is no operationId), so importing again updates in place.
Result<ImportResult> to_routes(const Document& d, const ImportOptions& options);

// "/pets/{pet-id}" -> "/pets/{pet_id}", "/files/{name}.json" -> a regex:
// the gateway path pattern for an OpenAPI path (after the base path).
std::string route_path(const std::string& openapi_path);

// Letters, digits, '.', '_' and '-' only; at most 128 characters.
bool valid_name(std::string_view name);

}  // namespace gatehouse::apim::openapi
