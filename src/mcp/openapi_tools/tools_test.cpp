#include "mcp/openapi_tools/tools.hpp"

#include <gtest/gtest.h>

#include "apim/openapi/loader.hpp"

namespace gatehouse::mcp::openapi_tools {
namespace {

constexpr std::string_view kSpec = R"(openapi: 3.0.3
info: {title: Pets, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      summary: List pets
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}}
        - {name: X-Trace, in: header, schema: {type: string}}
        - {name: session, in: cookie, schema: {type: string}}
      responses: {"200": {description: ok}}
    post:
      operationId: createPet
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NewPet"}
      responses: {"201": {description: created}}
  /pets/{petId}:
    get:
      summary: Info for a pet
      x-mcp-description: Fetches one pet by its id
      parameters:
        - {name: petId, in: path, required: true, schema: {type: string}}
      responses: {"200": {description: ok}}
components:
  schemas:
    NewPet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        owner: {$ref: "#/components/schemas/Owner"}
    Owner:
      type: object
      properties: {name: {type: string}}
    Unused: {type: string}
)";

oa::Document doc() {
  auto d = oa::load_document(kSpec, "pets.yaml");
  EXPECT_TRUE(d.ok()) << d.error().message;
  return *d;
}

TEST(OpenapiTools, OneToolPerOperation) {
  auto d = doc();
  std::string error;
  auto tools = build_tools(d, {}, error);
  ASSERT_EQ(error, "");
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0].name, "listPets");
  EXPECT_EQ(tools[0].definition.at("description"), "List pets");
  EXPECT_EQ(tools[2].name, "get_pets_petId");  // no operationId: method and path
  EXPECT_EQ(tools[2].definition.at("description"), "Fetches one pet by its id");
  // Parameters become properties; cookies are not sent, so not offered.
  const auto& in = tools[0].definition.at("inputSchema").as_object();
  EXPECT_EQ(in.at("type"), "object");
  const auto& props = in.at("properties").as_object();
  EXPECT_TRUE(props.contains("limit"));
  EXPECT_TRUE(props.contains("X-Trace"));
  EXPECT_FALSE(props.contains("session"));
  // The body's component schemas are copied into $defs, transitively.
  const auto& create = tools[1].definition.at("inputSchema").as_object();
  EXPECT_EQ(create.at("properties").at("body").at("$ref"), "#/$defs/NewPet");
  EXPECT_EQ(json::serialize(create.at("required")), R"(["body"])");
  const auto& defs = create.at("$defs").as_object();
  EXPECT_TRUE(defs.contains("NewPet"));
  EXPECT_TRUE(defs.contains("Owner"));
  EXPECT_FALSE(defs.contains("Unused"));
  EXPECT_EQ(defs.at("NewPet").at("properties").at("owner").at("$ref"), "#/$defs/Owner");
  // Path parameters are required.
  const auto& get = tools[2].definition.at("inputSchema").as_object();
  EXPECT_EQ(json::serialize(get.at("required")), R"(["petId"])");
}

TEST(OpenapiTools, PickedOperations) {
  auto d = doc();
  std::string error;
  auto tools = build_tools(d, {{"createPet"}}, error);
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0].name, "createPet");
  EXPECT_TRUE(build_tools(d, {{"nope"}}, error).empty());
  EXPECT_EQ(error, "operation \"nope\" is not in the document");
}

TEST(OpenapiTools, BuildCall) {
  auto d = doc();
  std::string error;
  auto tools = build_tools(d, {}, error);
  json::object args =
      json::parse(R"({"limit":5,"tag":["a b","c"],"X-Trace":"t1","session":"s"})").as_object();
  auto c = build_call(*tools[0].operation, "/v1/", args, error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->method, "GET");
  EXPECT_EQ(c->target, "/v1/pets?limit=5&tag=a%20b&tag=c");
  ASSERT_EQ(c->headers.size(), 1u);
  EXPECT_EQ(c->headers[0], (std::pair<std::string, std::string>{"X-Trace", "t1"}));
  // Path parameters are percent-encoded: no escaping the path.
  json::object p = json::parse(R"({"petId":"..admin?x=1 y"})").as_object();
  c = build_call(*tools[2].operation, "", p, error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->target, "/pets/..admin%3Fx%3D1%20y");
  // What the gateway's path rules would refuse or resolve is refused here.
  for (const char* bad : {R"({"petId":"../admin"})", R"({"petId":"a\\b"})", R"({"petId":".."})"}) {
    EXPECT_FALSE(build_call(*tools[2].operation, "", json::parse(bad).as_object(), error)) << bad;
    EXPECT_EQ(error,
              "argument \"petId\" cannot hold '/' or '\\' or be a dot-segment (path parameter)");
  }
  EXPECT_FALSE(build_call(*tools[2].operation, "", {}, error));
  EXPECT_EQ(error, "missing required argument \"petId\" (path parameter)");
  json::object b = json::parse(R"({"body":{"name":"Rex"}})").as_object();
  c = build_call(*tools[1].operation, "", b, error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->method, "POST");
  EXPECT_EQ(c->body, R"({"name":"Rex"})");
  EXPECT_EQ(c->headers[0].second, "application/json");
  EXPECT_FALSE(build_call(*tools[1].operation, "", {}, error));
  EXPECT_EQ(error, "missing required argument \"body\" (request body)");
  json::object crlf = json::parse(R"({"X-Trace":"a\r\nb: c"})").as_object();
  EXPECT_FALSE(build_call(*tools[0].operation, "", crlf, error));
}

TEST(OpenapiTools, Results) {
  auto r = to_result(200, "application/json; charset=utf-8", R"({"id":1})");
  EXPECT_EQ(r.at("content").at(0).at("text"), R"({"id":1})");
  EXPECT_EQ(r.at("structuredContent").at("id"), 1);
  EXPECT_FALSE(r.contains("isError"));
  r = to_result(200, "application/json", "[1,2]");  // not an object: text only
  EXPECT_FALSE(r.contains("structuredContent"));
  r = to_result(404, "application/json", R"({"error":"no pet"})");
  EXPECT_EQ(r.at("isError"), true);
  EXPECT_EQ(r.at("content").at(0).at("text"), R"(HTTP 404: {"error":"no pet"})");
  EXPECT_FALSE(r.contains("structuredContent"));
}

constexpr std::string_view kOutSpec = R"(openapi: 3.0.3
info: {title: Out, version: "1"}
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: array, items: {$ref: "#/components/schemas/Pet"}}}}}
    post:
      operationId: createPet
      responses:
        "201": {description: created, content: {application/json: {schema: {$ref: "#/components/schemas/Pet"}}}}
        "400": {description: bad, content: {application/json: {schema: {type: string}}}}
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object, properties: {tag: {type: string, nullable: true}}}}}}
    put:
      operationId: putPet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
        "201": {description: made, content: {application/json: {schema: {type: string}}}}
    delete:
      operationId: deletePet
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string}
        owner: {$ref: "#/components/schemas/Owner"}
    Owner: {type: object, properties: {name: {type: string}}}
)";

TEST(OpenapiTools, OutputSchemaFromTheSuccessAnswer) {
  auto d = oa::load_document(kOutSpec, "out.yaml");
  ASSERT_TRUE(d.ok()) << d.error().message;
  std::string error;
  auto tools = build_tools(*d, {}, error);
  ASSERT_EQ(tools.size(), 5u) << error;
  auto find = [&](std::string_view n) -> const json::object& {
    for (const auto& t : tools)
      if (t.name == n) return t.definition;
    ADD_FAILURE() << n;
    return tools[0].definition;
  };
  // An array answer: no outputSchema (MCP's is an object).
  EXPECT_FALSE(find("listPets").contains("outputSchema"));
  // A root reference is inlined (type: object at the root), the rest in $defs;
  // the 400's schema does not count.
  const auto& created = find("createPet").at("outputSchema").as_object();
  EXPECT_EQ(created.at("type"), "object");
  EXPECT_EQ(created.at("required").at(0), "name");
  EXPECT_EQ(created.at("properties").at("owner").at("$ref"), "#/$defs/Owner");
  EXPECT_TRUE(created.at("$defs").as_object().contains("Owner"));
  EXPECT_FALSE(created.at("$defs").as_object().contains("Pet"));
  // OpenAPI 3.0 nullable becomes a "null" type.
  const auto& tag = find("getPet").at("outputSchema").at("properties").at("tag").as_object();
  EXPECT_EQ(json::serialize(tag.at("type")), R"(["string","null"])");
  EXPECT_FALSE(tag.contains("nullable"));
  // Two success answers of different shapes, or none with a body: no schema.
  EXPECT_FALSE(find("putPet").contains("outputSchema"));
  EXPECT_FALSE(find("deletePet").contains("outputSchema"));
}

TEST(OpenapiTools, StructuredToolWithoutAnObjectIsAnError) {
  auto r = to_result(200, "text/plain", "fine", true);
  EXPECT_EQ(r.at("isError"), true);
  EXPECT_NE(std::string(r.at("content").at(0).at("text").as_string()).find("no JSON object"),
            std::string::npos);
  r = to_result(200, "application/json", R"({"name":"Rex"})", true);
  EXPECT_FALSE(r.contains("isError"));
  EXPECT_EQ(r.at("structuredContent").at("name"), "Rex");
  r = to_result(500, "text/plain", "down", true);  // an error stays an error
  EXPECT_EQ(r.at("content").at(0).at("text"), "HTTP 500: down");
}

TEST(OpenapiTools, Names) {
  oa::Operation op;
  op.method = "DELETE";
  op.path = "/stores/{store-id}/items/{item_id}";
  EXPECT_EQ(tool_name(op), "delete_stores_store_id_items_item_id");
  op.operation_id = "has space";
  EXPECT_EQ(tool_name(op), "delete_stores_store_id_items_item_id");
  op.operation_id = "removeItem";
  EXPECT_EQ(tool_name(op), "removeItem");
  EXPECT_EQ(percent_encode("a b/é~"), "a%20b%2F%C3%A9~");
}

constexpr std::string_view kBodies = R"(openapi: 3.0.3
info: {title: Bodies, version: "1"}
paths:
  /form:
    post:
      operationId: form
      parameters:
        - {name: Authorization, in: header, schema: {type: string}}
        - {name: Content-Length, in: header, schema: {type: string}}
        - {name: X-Tenant, in: header, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              properties: {name: {type: string}, tag: {type: array, items: {type: string}}}
      responses: {"200": {description: ok}}
  /text:
    put:
      operationId: text
      requestBody:
        content: {text/plain: {schema: {type: string}}}
      responses: {"200": {description: ok}}
  /upload:
    post:
      operationId: upload
      requestBody:
        content: {multipart/form-data: {schema: {type: object}}, application/octet-stream: {}}
      responses: {"200": {description: ok}}
)";

TEST(OpenapiTools, NonJsonBodies) {
  auto d = oa::load_document(kBodies, "bodies.yaml");
  ASSERT_TRUE(d.ok()) << d.error().message;
  std::string error;
  auto tools = build_tools(*d, {}, error);
  ASSERT_EQ(tools.size(), 3u) << error;
  // Form: the body's schema is the media type's; OpenAPI's ignored headers
  // and the gateway's framing headers are no arguments.
  json::object in = tools[0].definition.at("inputSchema").as_object();
  EXPECT_EQ(in.at("properties").at("body").at("type"), "object");
  EXPECT_FALSE(in.at("properties").as_object().contains("Authorization"));
  EXPECT_FALSE(in.at("properties").as_object().contains("Content-Length"));
  EXPECT_TRUE(in.at("properties").as_object().contains("X-Tenant"));
  json::object args =
      json::parse(R"({"body":{"name":"Rex & Co","tag":["a","b c"],"gone":null},"X-Tenant":"t"})")
          .as_object();
  auto c = build_call(*tools[0].operation, "", args, error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->body, "name=Rex%20%26%20Co&tag=a&tag=b%20c");
  ASSERT_EQ(c->headers.size(), 2u);
  EXPECT_EQ(c->headers[1], (std::pair<std::string, std::string>{
                               "Content-Type", "application/x-www-form-urlencoded"}));
  EXPECT_FALSE(build_call(*tools[0].operation, "",
                          json::parse(R"({"body":{"owner":{"name":"x"}}})").as_object(), error));
  EXPECT_EQ(error, "body field \"owner\" cannot be an object in a form body");
  EXPECT_FALSE(
      build_call(*tools[0].operation, "", json::parse(R"({"body":"a=b"})").as_object(), error));
  EXPECT_EQ(error,
            "argument \"body\" must be an object (application/x-www-form-urlencoded request body)");
  EXPECT_FALSE(build_call(*tools[0].operation, "",
                          json::parse(R"({"body":{"tag":[[1]]}})").as_object(), error));
  // text/*: a string, sent as given.
  EXPECT_EQ(tools[1].definition.at("inputSchema").at("properties").at("body").at("type"), "string");
  c = build_call(*tools[1].operation, "", json::parse(R"({"body":"hello\n"})").as_object(), error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->body, "hello\n");
  EXPECT_EQ(c->headers[0].second, "text/plain");
  EXPECT_FALSE(
      build_call(*tools[1].operation, "", json::parse(R"({"body":3})").as_object(), error));
  EXPECT_EQ(error, "argument \"body\" must be a string (text/plain request body)");
  // Neither: a precise refusal naming what the operation takes.
  EXPECT_FALSE(
      build_call(*tools[2].operation, "", json::parse(R"({"body":"x"})").as_object(), error));
  EXPECT_EQ(error,
            "the request body's media type (multipart/form-data, application/octet-stream) cannot "
            "be sent by a tool call: JSON, application/x-www-form-urlencoded or text/* only");
  // No body given for an optional one: nothing sent.
  c = build_call(*tools[2].operation, "", {}, error);
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->body.empty());
}

TEST(OpenapiTools, RefusalsBecomeToolErrors) {
  HttpAnswer a;
  a.status = 429;
  a.content_type = "application/problem+json";
  a.retry_after = "7";
  a.body = R"({"type":"about:blank","title":"Too Many Requests","status":429,)"
           R"("code":"rate_limited","detail":"rate limit exceeded"})";
  auto r = answer_result(a, true);
  EXPECT_EQ(r.at("isError"), true);
  std::string text(r.at("content").at(0).at("text").as_string());
  EXPECT_TRUE(text.starts_with("HTTP 429 rate_limited: rate limit exceeded (Retry-After: 7)\n{"))
      << text;
  EXPECT_FALSE(r.contains("structuredContent"));
  // Without a problem document: the plain error text, Retry-After inserted.
  a.status = 503;
  a.content_type = "text/plain";
  a.body = "busy";
  r = answer_result(a, false);
  EXPECT_EQ(r.at("content").at(0).at("text"), "HTTP 503 (Retry-After: 7): busy");
  // A success is to_result's.
  a = HttpAnswer{};
  a.status = 200;
  a.content_type = "application/json";
  a.body = R"({"ok":true})";
  r = answer_result(a, true);
  EXPECT_EQ(r.at("structuredContent").at("ok"), true);
  EXPECT_FALSE(r.contains("isError"));
}

}  // namespace
}  // namespace gatehouse::mcp::openapi_tools
