#include "apim/openapi/lint.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apim/openapi/loader.hpp"

namespace gatehouse::apim::openapi {
namespace {

std::vector<Finding> run(const std::string& text) {
  auto d = load_document(text, "api.yaml");
  EXPECT_TRUE(d.ok()) << d.error().message;
  auto src = parse_source(text, "api.yaml");
  if (!d || !src) return {};
  return lint(*d, src->get());
}

const Finding* find(const std::vector<Finding>& fs, const std::string& rule) {
  for (const auto& f : fs)
    if (f.rule == rule) return &f;
  return nullptr;
}

const char* kClean = R"(openapi: 3.0.3
info:
  title: t
  version: '1'
  description: d
  contact: {name: team}
servers: [{url: 'http://x'}]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      tags: [pets]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
              example: {id: 1, name: Rex}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, minimum: 1}
        name: {type: string}
)";

TEST(OpenApiLint, CleanDocumentHasNoFindings) {
  auto fs = run(kClean);
  for (const auto& f : fs) ADD_FAILURE() << f.rule << " " << f.pointer << " " << f.message;
}

TEST(OpenApiLint, Rules) {
  const char* doc = R"(openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /pets/{id}/:
    get:
      parameters: [{name: petId, in: path, required: true, schema: {type: string}}]
      responses: {'404': {description: no}}
    put:
      operationId: same
      tags: [x]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
            examples:
              bad: {value: {id: 0}}
      responses: {'200': {description: ok}}
  /other:
    get:
      operationId: same
      tags: [x]
      responses: {'200': {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [id]
      properties:
        id: {type: integer, minimum: 1}
        kind: {type: string, enum: [a, b, a], example: c}
    Unused: {type: string}
)";
  auto fs = run(doc);
  auto rule = [&](const std::string& r) { return find(fs, r); };
  ASSERT_TRUE(rule("info-contact"));
  ASSERT_TRUE(rule("oas3-api-servers"));
  ASSERT_TRUE(rule("path-keys-no-trailing-slash"));
  ASSERT_TRUE(rule("operation-operationId"));
  EXPECT_EQ(rule("operation-operationId")->pointer, "/paths/~1pets~1{id}~1/get");
  EXPECT_EQ(rule("operation-operationId")->line, 5);
  ASSERT_TRUE(rule("operation-operationId-unique"));
  EXPECT_EQ(rule("operation-operationId-unique")->severity, Level::kError);
  ASSERT_TRUE(rule("operation-tags"));
  ASSERT_TRUE(rule("operation-success-response"));
  ASSERT_TRUE(rule("path-params"));
  int path_params = 0;
  for (const auto& f : fs) path_params += f.rule == "path-params";
  EXPECT_EQ(path_params, 2);  // petId not in the path; {id} not defined by GET
  ASSERT_TRUE(rule("oas3-valid-media-example"));
  EXPECT_NE(rule("oas3-valid-media-example")->message.find("minimum"), std::string::npos);
  ASSERT_TRUE(rule("oas3-valid-schema-example"));
  ASSERT_TRUE(rule("duplicated-entry-in-enum"));
  ASSERT_TRUE(rule("oas3-unused-component"));
  EXPECT_EQ(rule("oas3-unused-component")->pointer, "/components/schemas/Unused");
}

TEST(OpenApiLint, ExampleChecker) {
  auto d = load_document(kClean, "api.yaml");
  ASSERT_TRUE(d.ok());
  auto pet = boost::json::parse(R"({"$ref": "#/components/schemas/Pet"})");
  EXPECT_EQ(check_example(*d, pet, boost::json::parse(R"({"id": 2, "name": "x"})")), "");
  EXPECT_NE(check_example(*d, pet, boost::json::parse(R"({"id": 2})")), "");
  EXPECT_NE(check_example(*d, pet, boost::json::parse(R"({"id": "2", "name": "x"})")), "");
  auto nullable = boost::json::parse(R"({"type": "string", "nullable": true})");
  EXPECT_EQ(check_example(*d, nullable, nullptr), "");
  auto list31 = boost::json::parse(R"({"type": ["integer", "null"], "maximum": 3})");
  EXPECT_EQ(check_example(*d, list31, nullptr), "");
  EXPECT_NE(check_example(*d, list31, boost::json::value(4)), "");
  EXPECT_NE(check_example(*d, list31, boost::json::value(1.5)), "");
}

TEST(OpenApiLint, PetstoreFixturesHaveNoErrors) {
  for (const char* f : {"petstore-2.0.yaml", "petstore-3.0.yaml", "petstore-3.1.yaml"}) {
    std::string path = std::string(GATEHOUSE_SOURCE_DIR) + "/tests/fixtures/openapi/" + f;
    auto d = load_document_file(path);
    ASSERT_TRUE(d.ok()) << f;
    for (const auto& x : lint(*d, nullptr))
      EXPECT_NE(x.severity, Level::kError) << f << ": " << x.rule << " " << x.message;
  }
}

}  // namespace
}  // namespace gatehouse::apim::openapi
