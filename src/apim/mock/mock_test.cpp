#include "apim/mock/mock.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "apim/openapi/loader.hpp"

namespace gatehouse::apim::mock {
namespace {

namespace json = boost::json;
using openapi::Document;
using openapi::Operation;

std::string fixture(const std::string& name) {
  return std::string(GATEHOUSE_SOURCE_DIR) + "/tests/fixtures/openapi/" + name;
}

Document load(const std::string& name) {
  auto d = openapi::load_document_file(fixture(name));
  EXPECT_TRUE(d) << (d ? "" : d.error().message);
  return d ? std::move(*d) : Document{};
}

const Operation& op(const Document& d, std::string_view id) {
  for (const auto& o : d.operations)
    if (o.operation_id == id) return o;
  ADD_FAILURE() << "no operation " << id;
  static Operation none;
  return none;
}

std::string header(const MockResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<none>";
}

MockResponse ok(const Result<MockResponse>& r) {
  EXPECT_TRUE(r) << (r ? "" : r.error().code + ": " + r.error().message);
  return r ? *r : MockResponse{};
}

TEST(MockPrefer, ParsesRfc7240Lists) {
  auto p = parse_prefer("code=404, example=\"cats\"; foo=bar, respond-async, dynamic=true");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->code, 404);
  EXPECT_EQ(p->example, "cats");
  EXPECT_EQ(p->dynamic, true);
  EXPECT_FALSE(parse_prefer("handling=lenient")->code.has_value());
  auto bad = parse_prefer("code=abc");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_prefer");
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_FALSE(parse_prefer("dynamic=maybe"));
}

TEST(MockPrefer, QueryOverridesHeader) {
  Prefer p;
  p.code = 200;
  ASSERT_TRUE(apply_query_preferences("limit=3&__code=404&__example=dogs&__dynamic=false", p));
  EXPECT_EQ(p.code, 404);
  EXPECT_EQ(p.example, "dogs");
  EXPECT_EQ(p.dynamic, false);
  EXPECT_FALSE(apply_query_preferences("__code=9999", p));
}

TEST(Mock, FirstNamedExampleOfLowest2xxWithHeaders) {
  Document d = load("mock-petstore.yaml");
  auto r = ok(respond(d, op(d, "listPets"), {}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"id":1,"name":"Fluffy","tag":"cat"},
                                                 {"id":2,"name":"Tom","tag":"cat"}])"));
  EXPECT_EQ(r.source, "example:cats");
  EXPECT_EQ(header(r, "X-Rate-Limit"), "100");
  EXPECT_TRUE(header(r, "X-Next").starts_with("https://example.com/"));
}

TEST(Mock, PreferExampleAndCode) {
  Document d = load("mock-petstore.yaml");
  MockRequest req;
  req.prefer.example = "dogs";
  auto r = ok(respond(d, op(d, "listPets"), req));
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"id":3,"name":"Spot","tag":"dog"}])"));
  req.prefer.example = "birds";
  auto missing = respond(d, op(d, "listPets"), req);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, 404);
  EXPECT_EQ(missing.error().code, "mock_example_not_found");
  EXPECT_NE(missing.error().message.find("cats, dogs"), std::string::npos);

  MockRequest code;
  code.prefer.code = 404;
  auto nf = ok(respond(d, op(d, "listPets"), code));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(json::parse(nf.body), json::parse(R"({"code":404,"message":"no pets"})"));
  code.prefer.code = 418;
  auto undefined = respond(d, op(d, "listPets"), code);
  ASSERT_FALSE(undefined);
  EXPECT_EQ(undefined.error().code, "mock_status_not_defined");
  // A code the operation lacks falls back to its default response.
  auto dflt = ok(respond(d, op(d, "showPetById"), code));
  EXPECT_EQ(dflt.status, 418);
  EXPECT_TRUE(json::parse(dflt.body).as_object().contains("message"));
}

TEST(Mock, AcceptNegotiation) {
  Document d = load("mock-petstore.yaml");
  MockRequest req;
  req.accept = "text/csv";
  auto csv = ok(respond(d, op(d, "listPets"), req));
  EXPECT_EQ(csv.content_type, "text/csv");
  EXPECT_EQ(csv.body, "id,name\n1,Fluffy\n");
  req.accept = "text/*;q=0.5, application/json;q=0.9";
  EXPECT_EQ(ok(respond(d, op(d, "listPets"), req)).content_type, "application/json");
  req.accept = "application/json;q=0, */*;q=0.1";
  EXPECT_EQ(ok(respond(d, op(d, "listPets"), req)).content_type, "text/csv");
  req.accept = "application/xml";
  auto no = respond(d, op(d, "listPets"), req);
  ASSERT_FALSE(no);
  EXPECT_EQ(no.error().status, 406);
  EXPECT_EQ(no.error().code, "not_acceptable");
  // A response without a body ignores Accept.
  EXPECT_EQ(ok(respond(d, op(d, "deletePet"), req)).status, 204);
}

TEST(Mock, GeneratedFromSchemaDeterministicUnlessDynamic) {
  Document d = load("mock-petstore.yaml");
  MockRequest req;
  req.seed = request_seed("POST", "/pets", "");
  auto a = ok(respond(d, op(d, "createPet"), req));
  auto b = ok(respond(d, op(d, "createPet"), req));
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.source, "generated");
  EXPECT_EQ(a.body, b.body);  // same request, same answer
  auto pet = json::parse(a.body).as_object();
  for (const char* k : {"id", "name", "born", "chip", "tag", "owner"})
    EXPECT_TRUE(pet.contains(k)) << k << " in " << a.body;
  EXPECT_FALSE(pet.contains("secret")) << "writeOnly leaks into responses";
  EXPECT_GE(pet["id"].as_int64(), 1);
  EXPECT_EQ(pet["born"].as_string().size(), 20u);  // 2024-05-06T07:08:09Z
  EXPECT_EQ(pet["chip"].as_string().size(), 36u);
  std::string tag(pet["tag"].as_string());
  EXPECT_TRUE(tag.size() >= 3 && tag.size() <= 8) << tag;

  req.dynamic = true;
  std::set<std::string> bodies;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    req.seed = seed;
    auto r = ok(respond(d, op(d, "createPet"), req));
    EXPECT_EQ(r.source, "dynamic");
    auto o = json::parse(r.body).as_object();
    for (const char* k : {"id", "name", "born", "chip"}) EXPECT_TRUE(o.contains(k)) << r.body;
    bodies.insert(r.body);
  }
  EXPECT_GT(bodies.size(), 4u);
  // Prefer dynamic=false wins over the route's dynamic setting.
  req.prefer.dynamic = false;
  EXPECT_EQ(ok(respond(d, op(d, "createPet"), req)).source, "generated");
}

TEST(Mock, DefaultOnlyEmptyAndDeprecated) {
  Document d = load("mock-petstore.yaml");
  auto s = ok(respond(d, op(d, "getStatus"), {}));
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(json::parse(s.body).at("state"), "green");
  auto del = ok(respond(d, op(d, "deletePet"), {}));
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.content_type.empty());
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(header(ok(respond(d, op(d, "showPetById"), {})), "Deprecation"), "true");
  Operation none;
  none.operation_id = "nothing";
  none.responses.push_back({"400", "", {}, {}, {}});
  auto err = respond(d, none, {});
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().status, 500);
  EXPECT_EQ(err.error().code, "mock_no_response");
}

TEST(Mock, Petstore20And30And31) {
  Document v2 = load("petstore-2.0.yaml");
  auto pet = ok(respond(v2, op(v2, "getPetById"), {}));
  EXPECT_EQ(pet.status, 200);
  auto o = json::parse(pet.body).as_object();
  EXPECT_EQ(o.at("name"), "doggie");  // the property's example, statically
  EXPECT_TRUE(o.contains("photoUrls"));
  auto inv = ok(respond(v2, op(v2, "getInventory"), {}));
  EXPECT_TRUE(json::parse(inv.body).is_object());

  Document v30 = load("petstore-3.0.yaml");
  auto list = ok(respond(v30, op(v30, "listPets"), {}));
  auto a = json::parse(list.body);
  ASSERT_TRUE(a.is_array());
  ASSERT_FALSE(a.as_array().empty());
  EXPECT_TRUE(a.as_array()[0].as_object().contains("id"));
  EXPECT_NE(header(list, "x-next"), "<none>");
  EXPECT_EQ(ok(respond(v30, op(v30, "createPets"), {})).status, 201);

  Document v31 = load("petstore-3.1.yaml");
  for (const auto& operation : v31.operations) {
    auto r = respond(v31, operation, {});
    ASSERT_TRUE(r) << operation.operation_id << ": " << r.error().message;
    if (!r->body.empty()) {
      EXPECT_NO_THROW(json::parse(r->body)) << r->body;
    }
  }
}

TEST(Mock, HeaderValuesCannotBreakTheHeadLine) {
  auto d = openapi::load_document(R"({"openapi":"3.0.0","info":{"title":"t","version":"1"},
    "paths":{"/x":{"get":{"operationId":"x","responses":{"200":{"description":"ok",
    "headers":{"X-Evil":{"schema":{"type":"string"},"example":"a\r\nSet-Cookie: s=1"},
               "Content-Length":{"schema":{"type":"integer"},"example":5},
               "Bad Name":{"schema":{"type":"string"}}}}}}}}})",
                                  "x.json");
  ASSERT_TRUE(d);
  auto r = ok(respond(*d, d->operations[0], {}));
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "a  Set-Cookie: s=1");
}

}  // namespace
}  // namespace gatehouse::apim::mock
