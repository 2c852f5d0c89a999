#include "apim/openapi/to_routes.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "admin/config_bridge.hpp"
#include "apim/openapi/loader.hpp"

namespace gatehouse::apim::openapi {
namespace {

namespace json = boost::json;

std::string fixture(const std::string& name) {
  return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/fixtures/openapi/" + name;
}

const json::object* route(const ImportResult& r, std::string_view name) {
  for (const auto& v : r.routes)
    if (v.at("name").as_string() == name) return &v.get_object();
  return nullptr;
}

// The generated items must be a config the gateway accepts as it is.
void expect_valid(const ImportResult& r) {
  json::object doc{{"upstreams", r.upstreams}, {"routes", r.routes}};
  auto entities = admin::document_entities(doc, "default", nullptr);
  ASSERT_TRUE(entities.ok()) << entities.error().message;
  auto v = admin::validate_entities(*entities);
  EXPECT_TRUE(v.ok()) << v.error().field << ": " << v.error().message;
}

TEST(OpenApiToRoutes, RoutePaths) {
  EXPECT_EQ(route_path("/pets"), "=/pets");
  EXPECT_EQ(route_path("/pets/{petId}"), "/pets/{petId}");
  EXPECT_EQ(route_path("/a/{pet-id}/{1x}"), "/a/{pet_id}/{p1x}");
  EXPECT_EQ(route_path("/files/{name}.json"), "~^/files/[^/]+\\.json$");
  EXPECT_EQ(route_path("/v1/{name}:cancel"), "~^/v1/[^/]+:cancel$");
}

TEST(OpenApiToRoutes, Petstore30) {
  auto d = load_document_file(fixture("petstore-3.0.yaml"));
  ASSERT_TRUE(d.ok());
  ImportOptions o;
  o.api = "petstore";
  o.tags = {"api:petstore"};
  auto r = to_routes(*d, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->upstreams.size(), 1u);
  EXPECT_EQ(r->upstreams[0].at("name").as_string(), "petstore");
  EXPECT_EQ(r->upstreams[0].at("targets").at(0).at("address").as_string(),
            "petstore.swagger.io:80");
  ASSERT_EQ(r->routes.size(), 3u);
  const auto* show = route(*r, "petstore.showPetById");
  ASSERT_TRUE(show);
  // the server's base path is part of the gateway path
  EXPECT_EQ(show->at("match").at("paths").at(0).as_string(), "/v1/pets/{petId}");
  EXPECT_EQ(show->at("match").at("methods").at(0).as_string(), "GET");
  EXPECT_EQ(show->at("upstream").as_string(), "petstore");
  EXPECT_EQ(show->at("tags").at(0).as_string(), "api:petstore");
  const auto* list = route(*r, "petstore.listPets");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->at("match").at("paths").at(0).as_string(), "=/v1/pets");
  expect_valid(*r);
  // Deterministic: the same input gives the same items.
  auto again = to_routes(*d, o);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(json::serialize(again->routes), json::serialize(r->routes));
}

TEST(OpenApiToRoutes, SecuritySchemesBecomePolicies) {
  auto d = load_document_file(fixture("petstore-2.0.yaml"));
  ASSERT_TRUE(d.ok());
  ImportOptions o;
  o.api = "petstore2";
  o.version = "1.0.0";
  o.upstream_url = "http://127.0.0.1:9999";
  auto r = to_routes(*d, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto* get = route(*r, "petstore2.1.0.0.getPetById");
  ASSERT_TRUE(get);
  // the upstream URL has no path: the document's base path is not used
  EXPECT_EQ(get->at("match").at("paths").at(0).as_string(), "/pet/{petId}");
  const auto& kp = get->at("policies").at(0);
  EXPECT_EQ(kp.at("name").as_string(), "key-auth");
  EXPECT_EQ(kp.at("config").at("key_names").at(0).as_string(), "api_key");
  EXPECT_TRUE(kp.at("config").at("query_names").as_array().empty());
  const auto* add = route(*r, "petstore2.1.0.0.addPet");
  ASSERT_TRUE(add);
  EXPECT_EQ(add->at("policies").at(0).at("name").as_string(), "jwt");
  expect_valid(*r);

  o.oauth2_policy = "oauth2-introspection";
  o.oauth2_config = {{"endpoint", "http://127.0.0.1:1/introspect"}};
  auto intro = to_routes(*d, o);
  ASSERT_TRUE(intro.ok());
  const auto* add2 = route(*intro, "petstore2.1.0.0.addPet");
  EXPECT_EQ(add2->at("policies").at(0).at("name").as_string(), "oauth2-introspection");
  EXPECT_EQ(add2->at("policies").at(0).at("config").at("required_scopes").as_array().size(), 2u);
  expect_valid(*intro);

  // A per-scheme override wins over the derived policy.
  o.auth["api_key"] = {{"name", "basic-auth"}};
  auto over = to_routes(*d, o);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(route(*over, "petstore2.1.0.0.getPetById")->at("policies").at(0).at("name").as_string(),
            "basic-auth");
}

TEST(OpenApiToRoutes, Petstore31BearerAndExtensions) {
  auto d = load_document_file(fixture("petstore-3.1.yaml"));
  ASSERT_TRUE(d.ok());
  ImportOptions o;
  o.api = "pets31";
  auto r = to_routes(*d, o);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->upstreams[0].at("targets").at(0).at("address").as_string(),
            "petstore.example.com:8080");
  const auto* create = route(*r, "pets31.createPets");
  ASSERT_TRUE(create);
  const auto& ps = create->at("policies").as_array();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].at("name").as_string(), "jwt");         // document-level bearer JWT
  EXPECT_EQ(ps[1].at("name").as_string(), "rate-limit");  // x-gatehouse-policies
  const auto* show = route(*r, "pets31.showPetById");
  EXPECT_EQ(show->at("policies").at(0).at("config").at("key_names").at(0).as_string(), "X-Pet-Key");
  expect_valid(*r);
}

TEST(OpenApiToRoutes, NamesWithoutOperationIdAndDuplicates) {
  auto d = load_document(
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "servers: [{url: 'http://up:81/'}]\n"
      "paths:\n"
      "  /a/{x}: {get: {responses: {'200': {description: ok}}}, "
      "put: {operationId: 'same', responses: {'200': {description: ok}}}}\n"
      "  /b: {put: {operationId: 'same', responses: {'200': {description: ok}}},"
      " post: {x-gatehouse-ignore: true, responses: {'200': {description: ok}}}}\n",
      "t.yaml");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ImportOptions o;
  o.api = "t";
  auto r = to_routes(*d, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->routes.size(), 3u);
  EXPECT_TRUE(route(*r, "t.get-a-x"));
  EXPECT_TRUE(route(*r, "t.same"));
  EXPECT_TRUE(route(*r, "t.same-2"));
  EXPECT_EQ(r->upstreams[0].at("targets").at(0).at("address").as_string(), "up:81");
  expect_valid(*r);
}

TEST(OpenApiToRoutes, Errors) {
  auto d = load_document("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n", "t.yaml");
  ASSERT_TRUE(d.ok());
  ImportOptions o;
  o.api = "bad name";
  EXPECT_EQ(to_routes(*d, o).error().code, "invalid_name");
  o.api = "ok";
  EXPECT_EQ(to_routes(*d, o).error().code, "no_upstream");
  o.upstream_url = "ftp://x";
  EXPECT_EQ(to_routes(*d, o).error().code, "invalid_upstream_url");
  auto u = load_document(
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "paths: {/a: {get: {security: [{nope: []}], responses: {'200': {description: ok}}}}}\n",
      "t.yaml");
  ASSERT_TRUE(u.ok());
  o.upstream_url.clear();
  o.upstream = "existing";
  auto r = to_routes(*u, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "unknown_security_scheme");
  EXPECT_EQ(r.error().field, "/paths/~1a/get/security");
}

TEST(OpenApiToRoutes, ValidationPolicyPerOperation) {
  auto d = load_document(
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "paths: {/a: {get: {operationId: getA, responses: {'200': {description: ok}}},\n"
      "             post: {responses: {'200': {description: ok}}}}}\n",
      "t.yaml");
  ASSERT_TRUE(d.ok());
  ImportOptions o;
  o.api = "t";
  o.upstream = "up";
  o.validation_spec = "t@1";
  o.validation_responses = "report";
  auto r = to_routes(*d, o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->routes.size(), 2u);
  // With an operationId the policy names it; without, it matches by method and path.
  EXPECT_EQ(boost::json::serialize(r->routes[0].at("policies")),
            R"([{"name":"request-validation","config":{"spec":"t@1","operation":"getA","responses":"report"}}])");
  EXPECT_EQ(boost::json::serialize(r->routes[1].at("policies")),
            R"([{"name":"request-validation","config":{"spec":"t@1","responses":"report"}}])");
  o.validate_requests = false;
  o.validation_responses = "off";
  auto off = to_routes(*d, o);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(boost::json::serialize(off->routes[0].at("policies").at(0).at("config")),
            R"({"spec":"t@1","operation":"getA","parameters":false,"body":false})");
}

}  // namespace
}  // namespace gatehouse::apim::openapi
