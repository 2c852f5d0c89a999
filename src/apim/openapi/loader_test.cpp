#include "apim/openapi/loader.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>
#include <fstream>
#include <map>
#include <sstream>

namespace gatehouse::apim::openapi {
namespace {

namespace json = boost::json;

std::string fixture(const std::string& name) {
  return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/fixtures/openapi/" + name;
}

const Operation* find_op(const Document& d, std::string_view method, std::string_view path) {
  for (const auto& op : d.operations)
    if (op.method == method && op.path == path) return &op;
  return nullptr;
}

Result<Document> load_text(std::string_view text, std::map<std::string, std::string> files = {}) {
  LoadOptions opt;
  if (!files.empty())
    opt.reader = [files](const std::string& p) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end()) return make_error("not_found", "no such file");
      return it->second;
    };
  return load_document(text, "api.yaml", opt);
}

TEST(OpenApiLoader, Petstore30) {
  auto d = load_document_file(fixture("petstore-3.0.yaml"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->version, SpecVersion::kOpenApi30);
  EXPECT_EQ(d->title, "Swagger Petstore");
  EXPECT_EQ(d->api_version, "1.0.0");
  ASSERT_EQ(d->servers.size(), 1u);
  EXPECT_EQ(d->servers[0].url, "http://petstore.swagger.io/v1");
  ASSERT_EQ(d->operations.size(), 3u);
  const auto* list = find_op(*d, "GET", "/pets");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->operation_id, "listPets");
  ASSERT_EQ(list->parameters.size(), 1u);
  EXPECT_EQ(list->parameters[0].in, "query");
  EXPECT_FALSE(list->parameters[0].required);
  EXPECT_EQ(list->parameters[0].schema.at("maximum").as_int64(), 100);
  ASSERT_EQ(list->responses.size(), 2u);
  EXPECT_EQ(list->responses[0].status, "200");
  EXPECT_EQ(list->responses[0].headers, std::vector<std::string>{"x-next"});
  EXPECT_EQ(list->responses[0].content[0].schema.at("$ref").as_string(),
            "#/components/schemas/Pets");
  const auto* create = find_op(*d, "POST", "/pets");
  ASSERT_TRUE(create && create->request_body);
  EXPECT_TRUE(create->request_body->required);
  EXPECT_EQ(d->schemas.size(), 3u);
  const auto& pets = resolve_schema(*d, list->responses[0].content[0].schema);
  EXPECT_EQ(pets.at("type").as_string(), "array");
  const auto* show = find_op(*d, "GET", "/pets/{petId}");
  ASSERT_TRUE(show);
  EXPECT_TRUE(show->parameters[0].required);
}

TEST(OpenApiLoader, Petstore20IsConverted) {
  auto d = load_document_file(fixture("petstore-2.0.yaml"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->version, SpecVersion::kSwagger2);
  ASSERT_EQ(d->servers.size(), 1u);
  EXPECT_EQ(d->servers[0].url, "https://petstore.swagger.io/v2");
  EXPECT_EQ(d->operations.size(), 7u);
  // body parameter -> request body with the operation's consumes types
  const auto* add = find_op(*d, "POST", "/pet");
  ASSERT_TRUE(add && add->request_body);
  EXPECT_TRUE(add->request_body->required);
  ASSERT_EQ(add->request_body->content.size(), 2u);
  EXPECT_EQ(add->request_body->content[1].type, "application/xml");
  EXPECT_EQ(add->request_body->content[0].schema.at("$ref").as_string(),
            "#/components/schemas/Pet");
  EXPECT_TRUE(add->parameters.empty());
  // definitions -> schemas, with their internal references rewritten
  ASSERT_TRUE(d->schemas.count("Pet"));
  EXPECT_EQ(d->schemas["Pet"].at("properties").at("category").at("$ref").as_string(),
            "#/components/schemas/Category");
  // formData -> a form request body; type: file -> binary string in multipart
  const auto* upload = find_op(*d, "POST", "/pet/{petId}/uploadImage");
  ASSERT_TRUE(upload && upload->request_body);
  EXPECT_EQ(upload->request_body->content[0].type, "multipart/form-data");
  EXPECT_EQ(
      upload->request_body->content[0].schema.at("properties").at("file").at("format").as_string(),
      "binary");
  const auto* form = find_op(*d, "POST", "/pet/{petId}");
  ASSERT_TRUE(form && form->request_body);
  EXPECT_EQ(form->request_body->content[0].type, "application/x-www-form-urlencoded");
  // path-level parameters are merged into each operation
  ASSERT_EQ(form->parameters.size(), 1u);
  EXPECT_EQ(form->parameters[0].name, "petId");
  EXPECT_EQ(form->parameters[0].schema.at("type").as_string(), "integer");
  // response schema -> content per produces type
  const auto* get = find_op(*d, "GET", "/pet/{petId}");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->responses[0].content[0].type, "application/json");
  // securityDefinitions
  ASSERT_TRUE(d->security_schemes.count("api_key"));
  EXPECT_EQ(d->security_schemes["api_key"].type, "apiKey");
  EXPECT_EQ(d->security_schemes["api_key"].parameter_name, "api_key");
  EXPECT_EQ(d->security_schemes["petstore_auth"].type, "oauth2");
  EXPECT_TRUE(d->security_schemes["petstore_auth"].flows.at("implicit").is_object());
  ASSERT_TRUE(get->security.has_value());
  EXPECT_EQ(get->security->at(0).schemes[0].first, "api_key");
  // query array parameter keeps its items schema
  const auto* by_status = find_op(*d, "GET", "/pet/findByStatus");
  ASSERT_TRUE(by_status);
  EXPECT_EQ(by_status->parameters[0].schema.at("items").at("enum").as_array().size(), 3u);
}

TEST(OpenApiLoader, Petstore31) {
  auto d = load_document_file(fixture("petstore-3.1.yaml"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->version, SpecVersion::kOpenApi31);
  // server variables take their defaults
  EXPECT_EQ(d->servers[0].url, "http://petstore.example.com:8080/v1");
  ASSERT_EQ(d->operations.size(), 3u);  // webhooks are not operations
  const auto* list = find_op(*d, "GET", "/pets");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->parameters.size(), 1u);  // through components/parameters
  EXPECT_EQ(list->parameters[0].name, "limit");
  EXPECT_FALSE(list->security.has_value());
  ASSERT_EQ(effective_security(*d, *list).size(), 1u);
  EXPECT_EQ(effective_security(*d, *list)[0].schemes[0].first, "bearerAuth");
  EXPECT_EQ(d->security_schemes["bearerAuth"].bearer_format, "JWT");
  // a recursive schema stays a reference to itself
  EXPECT_EQ(d->schemas["Pet"].at("properties").at("parent").at("$ref").as_string(),
            "#/components/schemas/Pet");
  EXPECT_TRUE(d->schemas["Pet"].at("properties").at("tag").at("type").is_array());
  const auto* create = find_op(*d, "POST", "/pets");
  ASSERT_TRUE(create);
  EXPECT_TRUE(create->extensions.contains("x-gatehouse-policies"));
}

TEST(OpenApiLoader, RelativeFilesAndCrossFileRecursion) {
  auto d = load_document_file(fixture("multi/main.yaml"));
  ASSERT_TRUE(d.ok()) << d.error().file << ":" << d.error().line << " " << d.error().message;
  ASSERT_EQ(d->operations.size(), 1u);
  const auto& op = d->operations[0];
  EXPECT_EQ(op.operation_id, "getNode");
  EXPECT_EQ(op.path, "/nodes/{id}");
  ASSERT_EQ(op.parameters.size(), 1u);
  EXPECT_EQ(op.parameters[0].name, "id");
  // The other file's schema is imported once under its name; its
  // self-reference points at the imported copy.
  EXPECT_EQ(op.responses[0].content[0].schema.at("$ref").as_string(), "#/components/schemas/Tree");
  ASSERT_TRUE(d->schemas.count("Tree"));
  EXPECT_EQ(d->schemas["Tree"].at("properties").at("children").at("items").at("$ref").as_string(),
            "#/components/schemas/Tree");
  EXPECT_EQ(d->schemas["Local"].at("properties").at("remote").at("$ref").as_string(),
            "#/components/schemas/Tree");
  EXPECT_EQ(d->schemas.size(), 2u);
}

TEST(OpenApiLoader, JsonInput) {
  auto d = load_text(R"({"openapi": "3.0.1", "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"responses": {"204": {"description": "ok"}}}}}})");
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->operations.size(), 1u);
  EXPECT_EQ(d->operations[0].responses[0].status, "204");
}

TEST(OpenApiLoader, YamlVersionNumberAndTyping) {
  auto d = load_text("openapi: 3.0.0\ninfo: {title: t, version: 1.5}\npaths: {}\n");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->api_version, "1.5");
}

TEST(OpenApiLoader, ErrorsCarryFilePointerAndPosition) {
  auto d = load_text(
      "openapi: 3.0.0\n"
      "info: {title: t, version: '1'}\n"
      "paths:\n"
      "  /a:\n"
      "    get:\n"
      "      responses:\n"
      "        '200':\n"
      "          $ref: '#/components/responses/Missing'\n");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "unresolved_ref");
  EXPECT_EQ(d.error().file, "api.yaml");
  EXPECT_EQ(d.error().field, "/paths/~1a/get/responses/200/$ref");
  EXPECT_EQ(d.error().line, 8);
  EXPECT_EQ(d.error().column, 17);
}

TEST(OpenApiLoader, RefCycleIsAnError) {
  auto d = load_text(
      "openapi: 3.0.0\n"
      "info: {title: t, version: '1'}\n"
      "paths:\n"
      "  /a: {$ref: '#/components/x/b'}\n"
      "components:\n"
      "  x:\n"
      "    b: {$ref: '#/components/x/c'}\n"
      "    c: {$ref: '#/components/x/b'}\n");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, "ref_cycle");
  EXPECT_EQ(d.error().line, 7);
}

TEST(OpenApiLoader, SyntaxErrorsHaveLineAndColumn) {
  auto y = load_text("openapi: 3.0.0\ninfo: [\n");
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.error().code, "invalid_yaml");
  EXPECT_GT(y.error().line, 0);
  auto j = load_text("{\n  \"openapi\": \"3.0.0\",\n  \"info\": }\n");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.error().code, "invalid_json");
  EXPECT_EQ(j.error().line, 3);
  auto dup = load_text("openapi: 3.0.0\nopenapi: 3.1.0\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, "duplicate_key");
  EXPECT_EQ(dup.error().line, 2);
}

TEST(OpenApiLoader, VersionChecks) {
  auto none = load_text("info: {title: t}\n");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, "missing_field");
  auto v4 = load_text("openapi: 4.0.0\n");
  ASSERT_FALSE(v4.ok());
  EXPECT_EQ(v4.error().code, "unsupported_version");
  EXPECT_EQ(v4.error().field, "/openapi");
}

TEST(OpenApiLoader, ExternalRefsNeedAReader) {
  const char* doc =
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "paths:\n  /a: {$ref: 'more/a.yaml'}\n";
  auto refused = load_text(doc);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "external_ref_not_allowed");
  auto ok = load_text(doc, {{"more/a.yaml", "get: {responses: {'200': {description: x}}}\n"}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->operations.size(), 1u);
  auto url = load_text(
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "paths:\n  /a: {$ref: 'https://example.com/a.yaml'}\n",
      {{"x", "y"}});
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.error().code, "external_ref_not_allowed");
}

TEST(OpenApiLoader, GitHubRestDescription) {
  std::string path =
      std::string(GATEHOUSE_SOURCE_DIR) +
      "/tools/openapi-specs/node_modules/@octokit/openapi/generated/api.github.com.json";
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path << " is missing: run scripts/bootstrap";
  std::stringstream ss;
  ss << in.rdbuf();
  auto d = load_document(ss.str(), path);
  ASSERT_TRUE(d.ok()) << d.error().field << ": " << d.error().message;
  EXPECT_EQ(d->version, SpecVersion::kOpenApi30);
  EXPECT_GT(d->operations.size(), 900u);
  EXPECT_GT(d->schemas.size(), 500u);
  const auto* repo = find_op(*d, "GET", "/repos/{owner}/{repo}");
  ASSERT_TRUE(repo);
  EXPECT_EQ(repo->operation_id, "repos/get");
  EXPECT_EQ(repo->parameters.size(), 2u);
}

}  // namespace
}  // namespace gatehouse::apim::openapi
