// One case per rule: a base document and a change to it.
#include "apim/openapi/diff.hpp"

#include <gtest/gtest.h>

#include "apim/openapi/loader.hpp"

namespace gatehouse::apim::openapi {
namespace {

// A small API whose pieces each test edits by text replacement.
const std::string kBase = R"(openapi: 3.0.3
info: {title: t, version: '1'}
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
    bearer: {type: http, scheme: bearer}
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer}
        name: {type: string, maxLength: 50}
        kind: {type: string, enum: [cat, dog]}
        tag: {type: string}
        parent: {$ref: '#/components/schemas/Pet'}
paths:
  /pets:
    get:
      operationId: list
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100, minimum: 1}}
        - {name: sort, in: query, schema: {type: string, enum: [asc, desc]}}
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Pet'}}
        '400': {description: bad}
    post:
      operationId: create
      requestBody:
        required: false
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Pet'}
      responses:
        '201': {description: created}
  /pets/{id}:
    get:
      operationId: show
      security: [{key: []}]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Pet'}
    delete:
      operationId: remove
      deprecated: true
      responses: {'204': {description: gone}}
)";

std::string edit(std::string s, const std::string& from, const std::string& to) {
  auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture text not found: " << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

std::vector<Change> run(const std::string& before, const std::string& after) {
  auto a = load_document(before, "old.yaml");
  auto b = load_document(after, "new.yaml");
  EXPECT_TRUE(a.ok()) << a.error().message;
  EXPECT_TRUE(b.ok()) << b.error().field << " " << b.error().message;
  if (!a || !b) return {};
  return diff(*a, *b);
}

const Change* find(const std::vector<Change>& cs, const std::string& id) {
  for (const auto& c : cs)
    if (c.id == id) return &c;
  return nullptr;
}

std::string ids(const std::vector<Change>& cs) {
  std::string out;
  for (const auto& c : cs) out += c.id + "@" + c.location + "; ";
  return out;
}

void expect(const std::string& after, const std::string& id, Level level) {
  auto cs = run(kBase, after);
  const Change* c = find(cs, id);
  ASSERT_TRUE(c) << "no " << id << " in: " << ids(cs);
  EXPECT_EQ(c->level, level) << id;
  EXPECT_EQ(has_breaking(cs), level == Level::kError || has_breaking(cs)) << ids(cs);
}

TEST(OpenApiDiff, IdenticalIsEmpty) {
  EXPECT_TRUE(run(kBase, kBase).empty()) << ids(run(kBase, kBase));
  // A renamed path parameter is the same endpoint.
  auto renamed = edit(edit(kBase, "/pets/{id}:", "/pets/{petId}:"), "{name: id, in: path",
                      "{name: petId, in: path");
  EXPECT_TRUE(run(kBase, renamed).empty()) << ids(run(kBase, renamed));
}

TEST(OpenApiDiff, RemovedPathAndOperation) {
  auto no_path = edit(kBase, "  /pets/{id}:\n    get:", "  /other/{id}:\n    get:");
  expect(no_path, "api-path-removed-without-deprecation", Level::kError);
  expect(edit(kBase, "    post:\n      operationId: create", "    put:\n      operationId: create"),
         "api-removed-without-deprecation", Level::kError);
  // Removing an operation that was deprecated is only a warning.
  auto cs = run(kBase, edit(kBase, "    delete:\n", "    x-gone:\n"));
  ASSERT_TRUE(find(cs, "api-removed-with-deprecation")) << ids(cs);
  EXPECT_EQ(find(cs, "api-removed-with-deprecation")->level, Level::kWarning);
  EXPECT_EQ(find(cs, "api-removed-with-deprecation")->operation, "DELETE /pets/{id}");
  expect(edit(kBase, "  /pets/{id}:\n",
              "  /owners:\n    get: {responses: {'200': {description: x}}}\n  /pets/{id}:\n"),
         "endpoint-added", Level::kInfo);
}

TEST(OpenApiDiff, Parameters) {
  expect(edit(kBase, "        - {name: sort,",
              "        - {name: q, in: query, required: true}\n        - {name: sort,"),
         "new-required-request-parameter", Level::kError);
  expect(edit(kBase, "        - {name: sort,",
              "        - {name: q, in: query}\n        - {name: sort,"),
         "new-optional-request-parameter", Level::kInfo);
  expect(edit(kBase, "{name: sort, in: query,", "{name: sort, in: query, required: true,"),
         "request-parameter-became-required", Level::kError);
  expect(edit(kBase,
              "        - {name: sort, in: query, schema: {type: string, enum: [asc, desc]}}\n", ""),
         "request-parameter-removed", Level::kWarning);
  expect(edit(kBase, "{name: limit, in: query, schema: {type: integer,",
              "{name: limit, in: query, schema: {type: string,"),
         "request-parameter-type-changed", Level::kError);
  // integer -> number widens a request: compatible.
  auto widened = run(kBase, edit(kBase, "{name: limit, in: query, schema: {type: integer,",
                                 "{name: limit, in: query, schema: {type: number,"));
  EXPECT_FALSE(find(widened, "request-parameter-type-changed")) << ids(widened);
  expect(edit(kBase, "enum: [asc, desc]", "enum: [asc]"), "request-parameter-enum-value-removed",
         Level::kError);
  expect(edit(kBase, "maximum: 100", "maximum: 50"), "request-parameter-max-decreased",
         Level::kError);
  expect(edit(kBase, "minimum: 1}", "minimum: 5}"), "request-parameter-min-increased",
         Level::kError);
  auto raised = run(kBase, edit(kBase, "maximum: 100", "maximum: 500"));
  EXPECT_FALSE(has_breaking(raised)) << ids(raised);
}

TEST(OpenApiDiff, RequestBody) {
  expect(edit(kBase, "        required: false\n", "        required: true\n"),
         "request-body-became-required", Level::kError);
  // The Pet schema is shared by request and response: narrowing it breaks the request side.
  expect(edit(kBase, "name: {type: string, maxLength: 50}", "name: {type: string, maxLength: 20}"),
         "request-property-max-length-decreased", Level::kError);
  expect(edit(kBase, "        tag: {type: string}\n",
              "        tag: {type: string}\n        born: {type: string}\n"),
         "response-property-added", Level::kInfo);
  auto req_prop = edit(kBase, "required: [id, name]", "required: [id, name, tag]");
  expect(req_prop, "request-property-became-required", Level::kError);
  auto new_req = edit(edit(kBase, "required: [id, name]", "required: [id, name, born]"),
                      "        tag: {type: string}\n",
                      "        tag: {type: string}\n        born: {type: string}\n");
  expect(new_req, "new-required-request-property", Level::kError);
  expect(edit(kBase,
              "          application/json:\n            schema: {$ref: "
              "'#/components/schemas/Pet'}\n      responses:\n        '201'",
              "          application/xml:\n            schema: {$ref: "
              "'#/components/schemas/Pet'}\n      responses:\n        '201'"),
         "request-body-media-type-removed", Level::kError);
}

TEST(OpenApiDiff, Responses) {
  expect(edit(kBase, "        '201': {description: created}",
              "        '202': {description: accepted}"),
         "response-success-status-removed", Level::kError);
  expect(edit(kBase, "        '400': {description: bad}\n", ""),
         "response-non-success-status-removed", Level::kWarning);
  expect(edit(kBase, "        tag: {type: string}\n", ""), "response-property-removed",
         Level::kError);
  expect(edit(kBase, "required: [id, name]", "required: [id]"), "response-property-became-optional",
         Level::kError);
  expect(edit(kBase, "enum: [cat, dog]", "enum: [cat, dog, bird]"),
         "response-property-enum-value-added", Level::kWarning);
  expect(edit(kBase, "id: {type: integer}", "id: {type: string}"), "response-property-type-changed",
         Level::kError);
}

TEST(OpenApiDiff, RecursiveSchemasTerminate) {
  // Pet.parent is Pet: the comparison visits each pair once.
  auto cs = run(kBase, edit(kBase, "id: {type: integer}", "id: {type: integer, format: int64}"));
  EXPECT_FALSE(has_breaking(cs)) << ids(cs);
}

TEST(OpenApiDiff, Security) {
  expect(edit(kBase, "    post:\n      operationId: create\n",
              "    post:\n      operationId: create\n      security: [{bearer: []}]\n"),
         "api-security-added", Level::kError);
  expect(edit(kBase, "security: [{key: []}]", "security: [{bearer: []}]"),
         "api-security-requirement-changed", Level::kError);
  expect(edit(kBase, "security: [{key: []}]", "security: []"), "api-security-removed",
         Level::kInfo);
  // Offering an alternative is compatible.
  auto alt =
      run(kBase, edit(kBase, "security: [{key: []}]", "security: [{key: []}, {bearer: []}]"));
  EXPECT_FALSE(has_breaking(alt)) << ids(alt);
  expect(edit(kBase, "key: {type: apiKey, in: header, name: X-Key}",
              "key: {type: apiKey, in: query, name: key}"),
         "security-scheme-api-key-changed", Level::kError);
  expect(edit(kBase, "bearer: {type: http, scheme: bearer}", "bearer: {type: http, scheme: basic}"),
         "security-scheme-type-changed", Level::kError);
}

TEST(OpenApiDiff, Swagger2AgainstOpenApi3) {
  // The model is shared, so a 2.0 document compares with its 3.0 rewrite.
  const char* v2 =
      "swagger: '2.0'\ninfo: {title: t, version: '1'}\n"
      "paths:\n  /a:\n    get:\n      parameters: [{name: q, in: query, type: string}]\n"
      "      responses: {'200': {description: ok, schema: {type: object, properties: {x: {type: "
      "string}}}}}\n";
  const char* v3 =
      "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
      "paths:\n  /a:\n    get:\n      parameters: [{name: q, in: query, schema: {type: string}}]\n"
      "      responses: {'200': {description: ok, content: {application/json: {schema: {type: "
      "object, properties: {x: {type: string}}}}}}}\n";
  auto cs = run(v2, v3);
  EXPECT_TRUE(cs.empty()) << ids(cs);
}

}  // namespace
}  // namespace gatehouse::apim::openapi
