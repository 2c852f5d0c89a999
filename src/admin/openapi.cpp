// /api/v1/openapi.json: the admin API's OpenAPI 3.1 document, generated from
// the route table so that it cannot miss a route (a unit test checks it).
#include <boost/json/serialize.hpp>

#include "admin/api.hpp"

namespace gatehouse::admin {

namespace json = boost::json;

namespace {

json::object schema_ref(const std::string& name) {
  return json::object{{"$ref", "#/components/schemas/" + name}};
}

json::object content(const json::object& schema) {
  return json::object{{"application/json", json::object{{"schema", schema}}}};
}

json::object problem_response(const std::string& why) {
  return json::object{{"description", why},
                      {"content", json::object{{"application/problem+json",
                                                json::object{{"schema", schema_ref("Problem")}}}}}};
}

std::string operation_id(const Route& r) {
  std::string id = r.method;
  for (char c : r.pattern) {
    if (c == '/' || c == '{' || c == '}' || c == '.' || c == '-') {
      if (!id.empty() && id.back() != '_') id += '_';
    } else {
      id += c;
    }
  }
  while (!id.empty() && id.back() == '_') id.pop_back();
  for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return id;
}

json::object string_schema(const char* desc) {
  return json::object{{"type", "string"}, {"description", desc}};
}
json::object object_schema(const char* desc) {
  return json::object{{"type", "object"}, {"description", desc}};
}
json::object array_schema(const char* desc) {
  return json::object{{"type", "array"}, {"description", desc}};
}

// The top-level fields of each kind's YAML item (docs/configuration.md has
// every nested key); the validator is the loader, so extra keys are refused.
json::object kind_schema(json::object props, json::array required) {
  return json::object{{"allOf", json::array{schema_ref("Entity"),
                                            json::object{{"type", "object"},
                                                         {"properties", std::move(props)},
                                                         {"required", std::move(required)}}}}};
}

// Schema name for a route's resource tag.
std::string schema_of(const std::string& tag) {
  if (tag == "upstreams") return "Upstream";
  if (tag == "routes") return "Route";
  if (tag == "consumers") return "Consumer";
  if (tag == "policies") return "Policy";
  if (tag == "credentials") return "Credential";
  if (tag == "tokens") return "Token";
  return "";
}

json::object components() {
  json::object schemas;
  schemas["Upstream"] = kind_schema(
      json::object{
          {"targets", array_schema("\"host:port\" or {address, weight}")},
          {"balancer", object_schema("kind: round-robin | least-request | consistent-hash | ewma")},
          {"timeouts", object_schema("connect, request, idle (durations)")},
          {"retries", object_schema("attempts, per_try_timeout, backoff, on_statuses, budget")},
          {"health_checks", object_schema("active and passive health checking")},
          {"pool", object_schema("keep-alive pool per worker")},
          {"circuit_breaker", object_schema("max_connections, max_pending, max_requests")},
          {"dns_refresh", string_schema("duration")}},
      json::array{"name", "targets"});
  schemas["Route"] = kind_schema(
      json::object{
          {"match", object_schema("paths, methods, hosts, headers, query, cookies")},
          {"priority", json::object{{"type", "integer"}}},
          {"upstream", string_schema("name of an upstream in the same workspace")},
          {"rewrite",
           object_schema("strip_prefix, regex, replacement, path_prefix, host, preserve_host")},
          {"timeouts", object_schema("overrides the upstream's")},
          {"policies", array_schema("[{name, config}] run on this route")}},
      json::array{"name", "upstream"});
  schemas["Consumer"] = kind_schema(
      json::object{{"groups", array_schema("group names (acl)")},
                   {"credentials", array_schema("see Credential; secrets are redacted on read")},
                   {"llm", object_schema("models: the LLM models this consumer may use (unset: all "
                                         "of the route's)")}},
      json::array{"name"});
  schemas["Policy"] =
      kind_schema(json::object{{"config", object_schema("the policy's config (docs/policies)")}},
                  json::array{"name"});
  schemas["Credential"] = json::object{
      {"type", "object"},
      {"description",
       "key-auth {key} (stored as key_hash), basic-auth {username, password} (stored as "
       "password_hash), hmac-auth {username, secret}, jwt {key, algorithm, secret | public_key}; "
       "secret fields read back as \"<redacted>\""},
      {"properties",
       json::object{{"id", json::object{{"type", "string"}, {"format", "uuid"}}},
                    {"type", string_schema("key-auth | basic-auth | hmac-auth | jwt")},
                    {"consumer", object_schema("{id, name}; read-only")}}},
      {"required", json::array{"type"}},
      {"additionalProperties", true}};
  schemas["Token"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{{"id", json::object{{"type", "string"}}},
                    {"name", json::object{{"type", "string"}}},
                    {"role", string_schema("admin | editor | viewer")},
                    {"workspace", json::object{{"type", json::array{"string", "null"}}}},
                    {"expires_at", json::object{{"type", json::array{"integer", "null"}}}},
                    {"token", string_schema("the secret; in the create response only")}}},
      {"required", json::array{"name"}}};
  schemas["Problem"] =
      json::object{{"type", "object"},
                   {"description",
                    "RFC 7807 problem details; field is a JSON path relative to the request body"},
                   {"properties", json::object{{"type", json::object{{"type", "string"}}},
                                               {"title", json::object{{"type", "string"}}},
                                               {"status", json::object{{"type", "integer"}}},
                                               {"detail", json::object{{"type", "string"}}},
                                               {"code", json::object{{"type", "string"}}},
                                               {"field", json::object{{"type", "string"}}},
                                               {"entity", json::object{{"type", "object"}}}}},
                   {"required", json::array{"type", "title", "status", "detail", "code"}}};
  schemas["Entity"] = json::object{
      {"type", "object"},
      {"description",
       "The fields of the YAML item of this kind (see docs/configuration.md) plus the "
       "read-only id, workspace, created_at, updated_at and version"},
      {"properties",
       json::object{
           {"id", json::object{{"type", "string"}, {"format", "uuid"}}},
           {"name", json::object{{"type", "string"}}},
           {"workspace", json::object{{"type", "string"}}},
           {"tags", json::object{{"type", "array"}, {"items", json::object{{"type", "string"}}}}},
           {"created_at", json::object{{"type", "integer"}, {"description", "unix ms"}}},
           {"updated_at", json::object{{"type", "integer"}, {"description", "unix ms"}}},
           {"version", json::object{{"type", "integer"}, {"description", "the ETag"}}}}},
      {"additionalProperties", true}};
  schemas["List"] = json::object{
      {"type", "object"},
      {"properties",
       json::object{
           {"items", json::object{{"type", "array"}, {"items", json::object{{"type", "object"}}}}},
           {"next_cursor", json::object{{"type", json::array{"string", "null"}}}}}},
      {"required", json::array{"items", "next_cursor"}}};
  return json::object{
      {"schemas", std::move(schemas)},
      {"securitySchemes",
       json::object{
           {"bearer",
            json::object{{"type", "http"},
                         {"scheme", "bearer"},
                         {"description", "an admin token (ght_...) or GATEHOUSE_ADMIN_TOKEN"}}}}}};
}

json::array parameters(const Route& r) {
  json::array ps;
  size_t i = 0;
  while ((i = r.pattern.find('{', i)) != std::string::npos) {
    size_t j = r.pattern.find('}', i);
    std::string name = r.pattern.substr(i + 1, j - i - 1);
    ps.push_back(json::object{{"name", name},
                              {"in", "path"},
                              {"required", true},
                              {"description", name == "id" ? "id (UUID) or name" : "id or name"},
                              {"schema", json::object{{"type", "string"}}}});
    i = j;
  }
  auto query = [&](const char* name, const char* desc) {
    ps.push_back(json::object{{"name", name},
                              {"in", "query"},
                              {"required", false},
                              {"description", desc},
                              {"schema", json::object{{"type", "string"}}}});
  };
  if (r.tag != "tokens" && r.pattern != "/api/v1/openapi.json")
    query("workspace", "workspace to act on (default: the token's, else \"default\")");
  bool list = r.method == "GET" && r.summary.rfind("List", 0) == 0;
  if (list || r.tag == "audit") {
    query("limit", "page size, 1..1000 (default 100)");
    query("cursor", "next_cursor of the previous page");
  }
  if (list && r.tag != "credentials" && r.tag != "tokens") {
    query("name", "exact name");
    query("name_prefix", "name prefix");
    query("tag", "entities carrying all these tags (comma-separated or repeated)");
  }
  if (r.tag == "audit") {
    for (const char* q : {"kind", "entity_id", "actor", "since_revision"}) query(q, "filter");
  }
  if (r.pattern == "/api/v1/config" && r.method == "PUT") {
    query("owner", "manage only the entities carrying this tag");
    query("dry_run", "true: answer the diff, change nothing");
  }
  if (r.pattern == "/api/v1/config" && r.method == "GET") {
    query("format", "yaml or json (or use Accept)");
    query("secrets", "true: include credential secrets (admin role)");
  }
  if (r.method == "PUT" || r.method == "PATCH" || r.method == "DELETE") {
    if (r.pattern.find('{') != std::string::npos)
      ps.push_back(
          json::object{{"name", "If-Match"},
                       {"in", "header"},
                       {"required", false},
                       {"description", "the ETag (version) this change expects; 412 otherwise"},
                       {"schema", json::object{{"type", "string"}}}});
  }
  return ps;
}

}  // namespace

json::value openapi_document(const Api& api) {
  json::object paths;
  for (const auto& r : api.routes()) {
    json::object op;
    op["summary"] = r.summary;
    op["operationId"] = operation_id(r);
    op["tags"] = json::array{r.tag};
    op["x-min-role"] = store::role_name(r.min_role);
    auto ps = parameters(r);
    if (!ps.empty()) op["parameters"] = std::move(ps);
    if (r.pattern == "/api/v1/openapi.json") op["security"] = json::array();
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      json::object body{{"required", true}};
      if (r.pattern == "/api/v1/config")
        body["content"] = json::object{
            {"application/json", json::object{{"schema", json::object{{"type", "object"}}}}},
            {"application/yaml", json::object{{"schema", json::object{{"type", "string"}}}}}};
      else
        body["content"] =
            r.method == "PATCH"
                ? json::object{{"application/merge-patch+json",
                                json::object{{"schema", json::object{{"type", "object"}}}}}}
                : content(schema_of(r.tag).empty() ? json::object{{"type", "object"}}
                                                   : schema_ref(schema_of(r.tag)));
      op["requestBody"] = std::move(body);
    }
    json::object responses;
    bool list = r.method == "GET" && (r.summary.rfind("List", 0) == 0 || r.tag == "audit");
    if (r.method == "POST")
      responses["201"] = json::object{
          {"description", "created"},
          {"content", content(schema_of(r.tag).empty() ? json::object{{"type", "object"}}
                                                       : schema_ref(schema_of(r.tag)))}};
    else if (r.method == "DELETE")
      responses["204"] = json::object{{"description", "deleted"}};
    else
      responses["200"] = json::object{
          {"description", "OK"},
          {"content", content(list                        ? schema_ref("List")
                              : !schema_of(r.tag).empty() ? schema_ref(schema_of(r.tag))
                                                          : json::object{{"type", "object"}})}};
    if (r.method == "PUT" && r.pattern.find('{') != std::string::npos)
      responses["201"] = json::object{{"description", "created (PUT to a missing id or name)"}};
    responses["400"] = problem_response("invalid request or config; field names the JSON path");
    responses["401"] = problem_response("no or invalid admin token");
    responses["403"] = problem_response("the token's role or workspace does not allow this");
    if (r.pattern.find('{') != std::string::npos) responses["404"] = problem_response("not found");
    if (r.writes) {
      responses["409"] = problem_response("name or id conflict, or config managed by a file");
      responses["412"] = problem_response("If-Match does not match the current version");
    }
    std::string method = r.method;
    for (auto& ch : method) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    op["responses"] = std::move(responses);
    json::value& item = paths[r.pattern];
    if (!item.is_object()) item.emplace_object();
    item.get_object()[method] = std::move(op);
  }
  return json::object{
      {"openapi", "3.1.0"},
      {"info",
       json::object{
           {"title", "Gatehouse admin API"},
           {"version", "1"},
           {"description",
            "Configuration, tokens and audit of a Gatehouse node. See docs/admin-api.md."}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"security", json::array{json::object{{"bearer", json::array()}}}},
      {"paths", std::move(paths)},
      {"components", components()}};
}

void register_openapi_routes(Api& api) {
  api.add({"GET", "/api/v1/openapi.json", store::Role::kViewer, false,
           "This document (no token needed)", "meta",
           [](Ctx& c) { return json_response(200, openapi_document(c.api)); }});
}

}  // namespace gatehouse::admin
