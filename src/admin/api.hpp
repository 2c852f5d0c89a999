// The admin REST API under /api/v1: request/response types, the route table,
// authentication (bearer admin tokens), roles and workspace scoping, and the
// problem+json error shape. Resources register their routes from their own
// files (entities.cpp, credentials.cpp, tokens.cpp, audit.cpp,
// config_resource.cpp, openapi.cpp).
#pragma once

#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "store/store.hpp"

namespace gatehouse::admin {

struct AdminResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct ApiRequest {
  std::string method;
  std::string path;   // normalized, e.g. "/api/v1/routes/r1"
  std::string query;  // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  const std::string* header(std::string_view name) const;  // case-insensitive
  // Decoded query parameter values (a=1&a=2 -> both).
  std::vector<std::string> params(std::string_view name) const;
  std::optional<std::string> param(std::string_view name) const;
};

// Who is calling: from the bearer token.
struct Principal {
  std::string actor;  // "token:<name>" in the audit log
  store::Role role = store::Role::kViewer;
  std::string workspace;  // "" = every workspace
};

// What the API needs from the process (the server in production, fakes in
// tests).
class McpRegistry;  // mcp_registry.hpp

struct ApiHost {
  store::Store* store = nullptr;           // file mode: a read-only view of the file
  bool file_mode = false;                  // the config is managed by a file: no writes
  std::string file_path;                   // the file in file mode
  std::function<int64_t()> revision;       // revision the data plane runs
  std::function<std::string()> file_text;  // file mode: current file contents
  std::string env_token;                   // file mode without a view: GATEHOUSE_ADMIN_TOKEN
  std::shared_ptr<McpRegistry> mcp_registry;  // made from `store` when not given
  // Store mode: the --settings file's llm section (${VAR} expanded), listed
  // read-only beside the stored llm providers and models.
  boost::json::value settings_llm;
};

class Api;

struct Ctx {
  Api& api;
  const ApiRequest& req;
  Principal who;
  std::map<std::string, std::string> vars;  // {id} etc. from the path
  store::Store& store() const;
  // The workspace the request acts on: ?workspace= or the token's or default;
  // an error when the token may not use it.
  Result<std::string> workspace() const;
};

using Handler = std::function<AdminResponse(Ctx&)>;

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/routes/{id}"
  store::Role min_role;
  bool writes = false;  // refused while the config is managed by a file
  std::string summary;
  std::string tag;  // OpenAPI grouping
  Handler handler;
};

class Api {
 public:
  explicit Api(ApiHost host);
  AdminResponse handle(const ApiRequest& req);
  const std::vector<Route>& routes() const { return routes_; }
  void add(Route r) { routes_.push_back(std::move(r)); }
  ApiHost& host() { return host_; }

 private:
  Result<Principal> authenticate(const ApiRequest& req);
  ApiHost host_;
  std::vector<Route> routes_;
};

// Resource registration (one file each).
void register_entity_routes(Api& api);
void register_credential_routes(Api& api);
void register_token_routes(Api& api);
void register_audit_routes(Api& api);
void register_config_routes(Api& api);
void register_openapi_routes(Api& api);
void register_api_routes(Api& api);  // apis.cpp: APIs as assets
void register_cache_routes(Api& api);  // cache.cpp: proxy-cache purge
void register_llm_usage_routes(Api& api);  // llm_usage.cpp: LLM usage analytics
void register_mcp_registry_routes(Api& api);  // mcp_registry_routes.cpp
// The OpenAPI 3.1 document of `api`'s routes.
boost::json::value openapi_document(const Api& api);

// Responses.
AdminResponse json_response(int status, const boost::json::value& v);
AdminResponse problem(int status, std::string_view code, std::string_view detail,
                      std::string_view field = {});
// An Error as problem+json. Validation errors located in an entity (see
// config_bridge.hpp) get a field relative to the request body when the entity
// is `target_kind`/`target_id`, else "kind:name.path".
AdminResponse error_response(const Error& e, std::string_view target_kind = {},
                             std::string_view target_id = {}, std::string_view field_prefix = {});
Result<boost::json::value> parse_json_body(const ApiRequest& req);
std::string etag(int64_t version);
// If-Match: 0 when absent or "*", the version otherwise; error when malformed.
Result<int64_t> if_match(const ApiRequest& req);
Result<size_t> limit_param(const ApiRequest& req);
bool is_uuid(std::string_view s);
// RFC 7396 JSON merge patch.
void merge_patch(boost::json::value& target, const boost::json::value& patch);

}  // namespace gatehouse::admin
