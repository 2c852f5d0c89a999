#include "apim/schema/request_validator.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "apim/openapi/loader.hpp"
#include "apim/schema/program.hpp"

namespace gatehouse::apim::schema {
namespace {

namespace json = boost::json;

constexpr const char* kSpec = R"(
openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, style: form, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: piped, in: query, style: pipeDelimited, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: spaced, in: query, style: spaceDelimited, explode: false, schema: {type: array, items: {type: string}}}
        - {name: filter, in: query, style: deepObject, schema: {type: object, properties: {min: {type: number}, kind: {type: string, enum: [cat, dog]}}}}
        - {name: X-Trace, in: header, schema: {type: string, format: uuid}}
        - {name: session, in: cookie, schema: {type: string, minLength: 3}}
        - {name: q, in: query, content: {application/json: {schema: {type: object, required: [a], properties: {a: {type: boolean}}}}}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Pet"}
      responses:
        "201": {description: created}
  /pets/{petId}:
    parameters:
      - {name: petId, in: path, required: true, schema: {type: integer, format: int64}}
    get:
      operationId: getPet
      responses: {"200": {description: ok}}
  /grid/{coords}/{label}/{matrix}:
    get:
      operationId: grid
      parameters:
        - {name: coords, in: path, required: true, schema: {type: object, properties: {x: {type: integer}, y: {type: integer}}}}
        - {name: label, in: path, required: true, style: label, explode: true, schema: {type: array, items: {type: integer}}}
        - {name: matrix, in: path, required: true, style: matrix, schema: {type: array, items: {type: integer}}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string, minLength: 1}
        tag: {type: string, nullable: true}
)";

struct Fixture : ::testing::Test {
  openapi::Document doc;
  void SetUp() override {
    auto d = openapi::load_document(kSpec, "pets.yaml");
    ASSERT_TRUE(d.ok()) << d.error().message;
    doc = std::move(*d);
  }
  std::shared_ptr<const RequestValidator> op(std::string_view id) {
    for (const auto& o : doc.operations)
      if (o.operation_id == id) {
        auto rv = RequestValidator::compile(doc, o);
        EXPECT_TRUE(rv.ok()) << rv.error().message;
        return *rv;
      }
    ADD_FAILURE() << "no operation " << id;
    return nullptr;
  }
  static std::vector<std::string> where(const std::vector<Violation>& v) {
    std::vector<std::string> out;
    for (const auto& x : v) out.push_back(x.instance + " " + x.keyword);
    return out;
  }
};

using Strings = std::vector<std::string>;

TEST_F(Fixture, QueryParametersTypedAndRequired) {
  auto rv = op("listPets");
  RequestView r;
  r.path = "/pets";
  r.query = "limit=10";
  EXPECT_TRUE(rv->validate(r).empty());
  r.query = "";
  auto v = rv->validate(r);
  EXPECT_EQ(where(v), Strings{"query.limit required"});
  EXPECT_EQ(v[0].message, "required query parameter 'limit' is missing");
  EXPECT_EQ(RequestValidator::status_for(v), 400);
  r.query = "limit=abc";
  v = rv->validate(r);
  EXPECT_EQ(where(v), Strings{"query.limit type"});
  EXPECT_EQ(v[0].message, "expected integer, got string");
  r.query = "limit=500&unknown=1";  // unknown parameters are allowed
  EXPECT_EQ(where(rv->validate(r)), Strings{"query.limit maximum"});
}

TEST_F(Fixture, QueryStyles) {
  auto rv = op("listPets");
  RequestView r;
  r.query =
      "limit=1&tags=a&tags=b&ids=1,2,3&piped=4|5&spaced=x%20y&filter[min]=2.5&filter[kind]=cat";
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  r.query = "limit=1&ids=1,x&piped=4|y&filter[kind]=cow&filter[min]=low";
  EXPECT_EQ(where(rv->validate(r)), (Strings{"query.ids/1 type", "query.piped/1 type",
                                             "query.filter/kind enum", "query.filter/min type"}));
  // %2C is a comma inside a value, not a separator.
  r.query = "limit=1&ids=1%2C2";
  EXPECT_EQ(where(rv->validate(r)), Strings{"query.ids/0 type"});
  // A JSON-encoded (content) parameter.
  r.query = "limit=1&q=%7B%22a%22%3Atrue%7D";
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  r.query = "limit=1&q=%7B%7D";
  EXPECT_EQ(where(rv->validate(r)), Strings{"query.q required"});
  r.query = "limit=1&q=nope";
  EXPECT_EQ(where(rv->validate(r)), Strings{"query.q style"});
}

TEST_F(Fixture, HeaderAndCookie) {
  auto rv = op("listPets");
  RequestView r;
  r.query = "limit=1";
  r.headers = {{"x-trace", "123e4567-e89b-12d3-a456-426614174000"},
               {"Cookie", "a=1; session=abcd"}};
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  r.headers = {{"X-TRACE", "nope"}, {"Cookie", "session=ab"}};
  EXPECT_EQ(where(rv->validate(r)), (Strings{"header.X-Trace format", "cookie.session minLength"}));
}

TEST_F(Fixture, PathParametersFromTemplate) {
  auto rv = op("getPet");
  RequestView r;
  r.path = "/v1/pets/42";
  r.base_path = "/v1";
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  r.path = "/v1/pets/forty-two";
  EXPECT_EQ(where(rv->validate(r)), Strings{"path.petId type"});
  r.path_params = {{"petId", "7"}};  // given by the caller: the path is not read
  EXPECT_EQ(where(rv->validate(r)), Strings{});
}

TEST_F(Fixture, PathStyles) {
  auto rv = op("grid");
  RequestView r;
  r.path = "/grid/x,1,y,2/.1.2.3/;matrix=4,5";
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  r.path = "/grid/x,1,y/1.2/;other=4";
  EXPECT_EQ(where(rv->validate(r)),
            (Strings{"path.coords style", "path.label style", "path.matrix style"}));
  r.path = "/grid/x,a,y,2/.1.b/;matrix=4,c";
  EXPECT_EQ(where(rv->validate(r)),
            (Strings{"path.coords/x type", "path.label/1 type", "path.matrix/1 type"}));
}

TEST_F(Fixture, JsonBody) {
  auto rv = op("createPet");
  RequestView r;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  std::string body = R"({"name": "Rex", "tag": null})";
  r.body = body;
  EXPECT_EQ(where(rv->validate(r)), Strings{});
  body = R"({"id": 5, "name": "", "tag": 3})";
  r.body = body;
  auto v = rv->validate(r);
  EXPECT_EQ(where(v), (Strings{"body/id readOnly", "body/name minLength", "body/tag type"}));
  EXPECT_EQ(v[2].schema, "#/components/schemas/Pet/properties/tag/type");
  body = "{nope";
  r.body = body;
  EXPECT_EQ(where(rv->validate(r)), Strings{"body json"});
  r.body = std::nullopt;
  EXPECT_EQ(where(rv->validate(r)), Strings{"body required"});
}

TEST_F(Fixture, UnsupportedMediaTypeIs415) {
  auto rv = op("createPet");
  RequestView r;
  r.headers = {{"Content-Type", "text/plain"}};
  std::string body = "hello";
  r.body = body;
  auto v = rv->validate(r);
  EXPECT_EQ(where(v), Strings{"header.Content-Type contentType"});
  EXPECT_EQ(v[0].message, "media type 'text/plain' is not accepted; expected application/json");
  EXPECT_EQ(RequestValidator::status_for(v), 415);
  r.headers.clear();
  EXPECT_EQ(RequestValidator::status_for(rv->validate(r)), 415);
}

TEST_F(Fixture, ResponseValidation) {
  auto rv = op("listPets");
  EXPECT_TRUE(rv->has_response_schemas());
  EXPECT_TRUE(
      rv->validate_response(200, "application/json", R"([{"id": 1, "name": "a"}])").empty());
  auto v = rv->validate_response(200, "application/json",
                                 R"([{"name": "a"}, {"id": "x", "name": "b"}])");
  EXPECT_EQ(where(v), (Strings{"response/0 required", "response/1/id type"}));
  EXPECT_TRUE(rv->validate_response(404, "application/json", "{}").empty());  // not described
  EXPECT_TRUE(rv->validate_response(200, "text/plain", "x").empty());
}

TEST_F(Fixture, ErrorCapApplies) {
  auto d = openapi::load_document(kSpec, "pets.yaml");
  ValidatorOptions o;
  o.max_errors = 2;
  auto rv = RequestValidator::compile(*d, d->operations[0], o);
  ASSERT_TRUE(rv.ok());
  RequestView r;
  r.query = "ids=a,b,c,d";
  EXPECT_EQ((*rv)->validate(r).size(), 2u);
}

TEST_F(Fixture, BadSchemaFailsAtCompile) {
  auto d = openapi::load_document(R"J({"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"operationId": "a", "parameters": [
      {"name": "p", "in": "query", "schema": {"type": "string", "pattern": "(?<=x)"}}],
      "responses": {"200": {"description": "ok"}}}}}})J",
                                  "a.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto rv = RequestValidator::compile(*d, d->operations[0]);
  ASSERT_FALSE(rv.ok());
  EXPECT_EQ(rv.error().field, "#/paths/~1a/get/parameters/0/schema/pattern");
  EXPECT_NE(rv.error().message.find("GET /a parameter 'p'"), std::string::npos);
}

TEST(Params, CoerceAndDecode) {
  EXPECT_EQ(coerce("5", detail::kInteger), json::value(5));
  EXPECT_EQ(coerce("5.5", detail::kInteger | detail::kNumber), json::value(5.5));
  EXPECT_EQ(coerce("1e3", detail::kNumber | detail::kInteger), json::value(1000.0));
  EXPECT_EQ(coerce("0x10", detail::kNumber | detail::kInteger), json::value("0x10"));
  EXPECT_EQ(coerce("true", detail::kBoolean), json::value(true));
  EXPECT_EQ(coerce("5", detail::kString), json::value("5"));
  EXPECT_EQ(percent_decode("a%20b+c%zz", true), "a b c%zz");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  auto q = split_query("a=1&b&&c=x=y");
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].first, "b");
  EXPECT_EQ(q[2].second, "x=y");
  auto c = split_cookies(R"(a=1; b="two" ;c)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].second, "two");
}

TEST(Params, Swagger2CollectionFormats) {
  auto d = openapi::load_document(R"({"swagger": "2.0", "info": {"title": "t", "version": "1"},
    "paths": {"/a": {"get": {"parameters": [
      {"name": "csv", "in": "query", "type": "array", "items": {"type": "integer"}},
      {"name": "multi", "in": "query", "type": "array", "collectionFormat": "multi", "items": {"type": "integer"}},
      {"name": "pipes", "in": "query", "type": "array", "collectionFormat": "pipes", "items": {"type": "integer"}},
      {"name": "tsv", "in": "query", "type": "array", "collectionFormat": "tsv", "items": {"type": "integer"}}],
      "responses": {"200": {"description": "ok"}}}}}})",
                                  "a.json");
  ASSERT_TRUE(d.ok()) << d.error().message;
  auto rv = RequestValidator::compile(*d, d->operations[0]);
  ASSERT_TRUE(rv.ok());
  RequestView r;
  r.query = "csv=1,2&multi=3&multi=4&pipes=5|6&tsv=7%098";
  EXPECT_TRUE((*rv)->validate(r).empty());
  r.query = "csv=1,a&multi=3&multi=b&pipes=5|c&tsv=7%09d";
  EXPECT_EQ((*rv)->validate(r).size(), 4u);
}

}  // namespace
}  // namespace gatehouse::apim::schema
