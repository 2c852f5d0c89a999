// Request validation microbenchmarks (src/apim/schema): the cost the
// request-validation policy adds per request, split into its parts.
// Built by CMake as build/schema_bench (GATEHOUSE_BENCH=ON, the default).
//   build/schema_bench --benchmark_min_time=0.5s
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <string>

#include "apim/openapi/loader.hpp"
#include "apim/schema/request_validator.hpp"

namespace gatehouse::apim::schema {
namespace {

namespace json = boost::json;

constexpr const char* kSpec = R"(
openapi: 3.1.0
info: {title: Orders, version: "1"}
paths:
  /orders:
    get:
      operationId: listOrders
      parameters:
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: status, in: query, schema: {type: array, items: {enum: [open, paid, shipped]}}}
        - {name: X-Request-Id, in: header, schema: {type: string, format: uuid}}
      responses: {"200": {description: ok}}
    post:
      operationId: createOrder
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Order"}}}
      responses: {"201": {description: created}}
components:
  schemas:
    Order:
      type: object
      required: [customer, items]
      additionalProperties: false
      properties:
        id: {type: string, format: uuid, readOnly: true}
        customer: {$ref: "#/components/schemas/Customer"}
        items: {type: array, minItems: 1, maxItems: 100, items: {$ref: "#/components/schemas/Item"}}
        note: {type: [string, "null"], maxLength: 500}
        created: {type: string, format: date-time}
    Customer:
      type: object
      required: [email, name]
      properties:
        email: {type: string, format: email}
        name: {type: string, minLength: 1, maxLength: 100}
        tier: {enum: [free, pro, enterprise]}
    Item:
      type: object
      required: [sku, quantity, price]
      properties:
        sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{4}$"}
        quantity: {type: integer, minimum: 1, maximum: 1000}
        price: {type: number, exclusiveMinimum: 0, multipleOf: 0.01}
)";

struct Fixture {
  openapi::Document doc;
  std::shared_ptr<const RequestValidator> list, create;
  std::string body;
  Fixture() {
    doc = std::move(*openapi::load_document(kSpec, "orders.yaml"));
    list = *RequestValidator::compile(doc, doc.operations[0]);
    create = *RequestValidator::compile(doc, doc.operations[1]);
    body = R"({"customer": {"email": "ann@example.com", "name": "Ann", "tier": "pro"},
               "note": null, "created": "2026-11-29T07:00:00Z", "items": [)";
    for (int i = 0; i < 10; ++i) {
      if (i) body += ",";
      body +=
          R"({"sku": "ABC-)" + std::to_string(1000 + i) + R"(", "quantity": 2, "price": 19.99})";
    }
    body += "]}";
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_Parameters(benchmark::State& state) {
  auto& f = fixture();
  RequestView r;
  r.path = "/orders";
  r.query = "limit=20&status=open&status=paid";
  r.headers = {{"X-Request-Id", "123e4567-e89b-12d3-a456-426614174000"}, {"Accept", "*/*"}};
  for (auto _ : state) {
    auto v = f.list->validate(r);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Parameters);

// A 10-item order (about 800 bytes): JSON parse plus schema validation.
void BM_JsonBody(benchmark::State& state) {
  auto& f = fixture();
  RequestView r;
  r.path = "/orders";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = f.body;
  for (auto _ : state) {
    auto v = f.create->validate(r);
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.body.size()));
}
BENCHMARK(BM_JsonBody);

// The schema part alone (the body already parsed).
void BM_SchemaOnly(benchmark::State& state) {
  auto& f = fixture();
  CompileOptions o;
  o.components = &f.doc.schemas;
  auto v = *Validator::compile(json::parse(R"({"$ref": "#/components/schemas/Order"})"), o);
  json::value inst = json::parse(f.body);
  for (auto _ : state) benchmark::DoNotOptimize(v.validate(inst, Direction::kRequest));
}
BENCHMARK(BM_SchemaOnly);

// An invalid body: every item wrong, violations collected (capped at 16).
void BM_InvalidBody(benchmark::State& state) {
  auto& f = fixture();
  std::string bad = f.body;
  for (size_t p = 0; (p = bad.find("ABC-", p)) != std::string::npos;) bad.replace(p, 4, "abc_");
  RequestView r;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = bad;
  for (auto _ : state) {
    auto v = f.create->validate(r);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_InvalidBody);

void BM_Compile(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    auto v = RequestValidator::compile(f.doc, f.doc.operations[1]);
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_Compile);

}  // namespace
}  // namespace gatehouse::apim::schema

BENCHMARK_MAIN();
