#include "apim/schema/validator.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace gatehouse::apim::schema {
namespace {

namespace json = boost::json;

Validator make(std::string_view schema, Dialect d = Dialect::kDraft2020,
               const std::map<std::string, json::value>* components = nullptr) {
  CompileOptions o;
  o.dialect = d;
  o.components = components;
  auto v = Validator::compile(json::parse(schema), o);
  EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().field + ": " + v.error().message);
  return std::move(v.value());
}

// Violations of `instance` as "instance keyword" strings, in order.
std::vector<std::string> check(const Validator& v, std::string_view instance,
                               Direction dir = Direction::kRequest) {
  std::vector<Violation> out;
  bool ok = v.validate(json::parse(instance), dir, &out);
  EXPECT_EQ(ok, out.empty());
  std::vector<std::string> r;
  for (const auto& x : out) r.push_back(x.instance + " " + x.keyword);
  return r;
}

bool valid(const Validator& v, std::string_view instance) {
  return v.validate(json::parse(instance), Direction::kResponse);
}

using Strings = std::vector<std::string>;

TEST(SchemaValidator, TypesAndNullable30) {
  auto v = make(R"({"type": "integer"})", Dialect::kOpenApi30);
  EXPECT_TRUE(valid(v, "5"));
  EXPECT_TRUE(valid(v, "5.0"));  // an integral number is an integer
  EXPECT_FALSE(valid(v, "5.5"));
  EXPECT_FALSE(valid(v, "null"));
  EXPECT_EQ(check(v, R"("5")"), Strings{" type"});
  auto n = make(R"({"type": "string", "nullable": true, "enum": ["a"]})", Dialect::kOpenApi30);
  EXPECT_TRUE(valid(n, "null"));
  EXPECT_TRUE(valid(n, R"("a")"));
  EXPECT_FALSE(valid(n, R"("b")"));
  // 3.0 has no "null" type and no type lists.
  CompileOptions o;
  o.dialect = Dialect::kOpenApi30;
  EXPECT_FALSE(Validator::compile(json::parse(R"({"type": "null"})"), o).ok());
  EXPECT_FALSE(Validator::compile(json::parse(R"({"type": ["string"]})"), o).ok());
}

TEST(SchemaValidator, TypeListsAndConst31) {
  auto v = make(R"({"type": ["string", "null"], "const": "x"})");
  EXPECT_FALSE(valid(v, "null"));  // const wins
  auto t = make(R"({"type": ["number", "null"]})");
  EXPECT_TRUE(valid(t, "1.5"));
  EXPECT_TRUE(valid(t, "null"));
  EXPECT_TRUE(valid(t, "3"));
  EXPECT_FALSE(valid(t, "true"));
  std::vector<Violation> out;
  t.validate(json::parse(R"("s")"), Direction::kRequest, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message, "expected number or null, got string");
  EXPECT_EQ(out[0].schema, "#/type");
}

TEST(SchemaValidator, NumericBounds) {
  auto v30 = make(R"({"type": "number", "minimum": 1, "exclusiveMinimum": true, "maximum": 10})",
                  Dialect::kOpenApi30);
  EXPECT_FALSE(valid(v30, "1"));
  EXPECT_TRUE(valid(v30, "1.01"));
  EXPECT_TRUE(valid(v30, "10"));
  EXPECT_EQ(check(v30, "11"), Strings{" maximum"});
  EXPECT_EQ(check(v30, "1"), Strings{" exclusiveMinimum"});
  auto v31 = make(R"({"exclusiveMinimum": 1, "exclusiveMaximum": 10})");
  EXPECT_FALSE(valid(v31, "1"));
  EXPECT_FALSE(valid(v31, "10"));
  EXPECT_TRUE(valid(v31, "9.99"));
  CompileOptions o;
  o.dialect = Dialect::kOpenApi30;
  EXPECT_FALSE(Validator::compile(json::parse(R"({"exclusiveMinimum": true})"), o).ok());
}

TEST(SchemaValidator, MultipleOfWithDoubles) {
  auto v = make(R"({"multipleOf": 0.1})");
  EXPECT_TRUE(valid(v, "0.3"));
  EXPECT_TRUE(valid(v, "1.7"));
  EXPECT_TRUE(valid(v, "12345.6"));
  EXPECT_FALSE(valid(v, "0.35"));
  auto c = make(R"({"multipleOf": 0.01})");
  EXPECT_TRUE(valid(c, "19.99"));
  EXPECT_TRUE(valid(c, "4.35"));
  EXPECT_FALSE(valid(c, "4.355"));
  auto i = make(R"({"multipleOf": 3})");
  EXPECT_TRUE(valid(i, "9223372036854775806"));  // exact integer arithmetic
  EXPECT_FALSE(valid(i, "9223372036854775807"));
  EXPECT_FALSE(valid(i, "10"));
  EXPECT_FALSE(Validator::compile(json::parse(R"({"multipleOf": 0})"), {}).ok());
}

TEST(SchemaValidator, StringsInCodePoints) {
  auto v = make(R"({"minLength": 2, "maxLength": 3, "pattern": "^[a-zé]+$"})");
  EXPECT_TRUE(valid(v, R"("éé")"));   // 4 bytes, 2 code points
  EXPECT_TRUE(valid(v, R"("ééé")"));  // 6 bytes, 3 code points
  EXPECT_FALSE(valid(v, R"("éééé")"));
  EXPECT_EQ(check(v, R"("a")"), Strings{" minLength"});
  EXPECT_EQ(check(v, R"("A1")"), Strings{" pattern"});
  auto emoji = make(R"({"maxLength": 1})");
  EXPECT_TRUE(valid(emoji, "\"\xF0\x9F\x98\x80\""));  // one code point, 4 bytes
  // Patterns are not anchored (ECMA-262 semantics).
  auto part = make(R"({"pattern": "b"})");
  EXPECT_TRUE(valid(part, R"("abc")"));
}

TEST(SchemaValidator, BadPatternIsACompileError) {
  auto r = Validator::compile(json::parse(R"J({"properties": {"a": {"pattern": "(?=x)"}}})J"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "invalid_schema");
  EXPECT_EQ(r.error().field, "#/properties/a/pattern");
  auto p = Validator::compile(json::parse(R"J({"patternProperties": {"(": {}}})J"), {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "#/patternProperties/(");
}

TEST(SchemaValidator, Formats) {
  auto dt = make(R"({"format": "date-time"})");
  EXPECT_TRUE(valid(dt, R"("2024-02-29T12:30:00Z")"));
  EXPECT_TRUE(valid(dt, R"("2024-02-29T12:30:00.123+02:00")"));
  EXPECT_FALSE(valid(dt, R"("2023-02-29T12:30:00Z")"));  // not a leap year
  EXPECT_FALSE(valid(dt, R"("2024-02-28 25:00:00Z")"));
  EXPECT_FALSE(valid(dt, R"("2024-02-28T12:00:00")"));  // offset required
  EXPECT_TRUE(valid(dt, "5"));                          // formats apply to their type only
  auto d = make(R"({"format": "date"})");
  EXPECT_TRUE(valid(d, R"("2024-12-31")"));
  EXPECT_FALSE(valid(d, R"("2024-13-01")"));
  auto t = make(R"({"format": "time"})");
  EXPECT_TRUE(valid(t, R"("23:59:60Z")"));
  EXPECT_FALSE(valid(t, R"("23:59")"));
  EXPECT_TRUE(check_format("email", json::value("a.b+c@example.com")));
  EXPECT_FALSE(check_format("email", json::value("a..b@example.com")));
  EXPECT_FALSE(check_format("email", json::value("nobody")));
  EXPECT_TRUE(check_format("uuid", json::value("123e4567-e89b-12d3-a456-426614174000")));
  EXPECT_FALSE(check_format("uuid", json::value("123e4567e89b12d3a456426614174000")));
  EXPECT_TRUE(check_format("uri", json::value("https://example.com/a?b=c#d")));
  EXPECT_FALSE(check_format("uri", json::value("/relative")));
  EXPECT_FALSE(check_format("uri", json::value("http://a b")));
  EXPECT_TRUE(check_format("ipv4", json::value("192.168.0.1")));
  EXPECT_FALSE(check_format("ipv4", json::value("192.168.0.01")));
  EXPECT_FALSE(check_format("ipv4", json::value("256.1.1.1")));
  EXPECT_TRUE(check_format("ipv6", json::value("::1")));
  EXPECT_FALSE(check_format("ipv6", json::value("1::2::3")));
  EXPECT_TRUE(check_format("hostname", json::value("api.example.com")));
  EXPECT_FALSE(check_format("hostname", json::value("-bad.example.com")));
  auto i32 = make(R"({"type": "integer", "format": "int32"})");
  EXPECT_TRUE(valid(i32, "2147483647"));
  EXPECT_FALSE(valid(i32, "2147483648"));
  EXPECT_FALSE(valid(i32, "-2147483649"));
  auto i64 = make(R"({"format": "int64"})");
  EXPECT_TRUE(valid(i64, "9223372036854775807"));
  EXPECT_FALSE(valid(i64, "9223372036854775808"));
  auto f = make(R"({"format": "float"})");
  EXPECT_TRUE(valid(f, "3.4e38"));
  EXPECT_FALSE(valid(f, "3.5e38"));
  bool known = true;
  EXPECT_TRUE(check_format("x-custom", json::value("anything"), &known));
  EXPECT_FALSE(known);
}

TEST(SchemaValidator, ObjectsRequiredAdditional) {
  auto v = make(R"({
    "type": "object", "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    "additionalProperties": false, "minProperties": 2})",
                Dialect::kOpenApi30);
  EXPECT_TRUE(valid(v, R"({"id": 1, "name": "x"})"));
  EXPECT_EQ(check(v, R"({"id": "1", "extra": true})"),
            (Strings{" required", "/id type", "/extra additionalProperties"}));
  auto a = make(R"({"additionalProperties": {"type": "integer"}, "properties": {"s": {}}})");
  EXPECT_TRUE(valid(a, R"({"s": "x", "n": 1})"));
  EXPECT_EQ(check(a, R"({"s": "x", "n": "1"})"), Strings{"/n type"});
}

TEST(SchemaValidator, PointerEscapingInLocations) {
  auto v = make(R"({"properties": {"a/b": {"properties": {"c~d": {"type": "string"}}}}})");
  std::vector<Violation> out;
  v.validate(json::parse(R"({"a/b": {"c~d": 1}})"), Direction::kRequest, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].instance, "/a~1b/c~0d");
  EXPECT_EQ(out[0].schema, "#/properties/a~1b/properties/c~0d/type");
}

TEST(SchemaValidator, PatternPropertiesAndPropertyNames) {
  auto v = make(R"({"patternProperties": {"^x-": {"type": "string"}},
                    "additionalProperties": false, "propertyNames": {"maxLength": 5}})");
  EXPECT_TRUE(valid(v, R"({"x-a": "s"})"));
  EXPECT_EQ(check(v, R"({"x-a": 1})"), Strings{"/x-a type"});
  EXPECT_EQ(check(v, R"({"y": 1})"), Strings{"/y additionalProperties"});
  EXPECT_EQ(check(v, R"({"x-long": "s"})"), Strings{" propertyNames"});
}

TEST(SchemaValidator, Dependencies) {
  auto v = make(R"({"dependentRequired": {"card": ["billing"]},
                    "dependentSchemas": {"vip": {"required": ["level"]}}})");
  EXPECT_TRUE(valid(v, R"({})"));
  EXPECT_TRUE(valid(v, R"({"card": 1, "billing": 2})"));
  EXPECT_EQ(check(v, R"({"card": 1})"), Strings{" dependentRequired"});
  EXPECT_EQ(check(v, R"({"vip": true})"), Strings{" required"});
}

TEST(SchemaValidator, Arrays) {
  auto v = make(R"({"type": "array", "items": {"type": "integer"}, "minItems": 1,
                    "maxItems": 3, "uniqueItems": true})",
                Dialect::kOpenApi30);
  EXPECT_TRUE(valid(v, "[1, 2, 3]"));
  EXPECT_EQ(check(v, "[]"), Strings{" minItems"});
  EXPECT_EQ(check(v, R"([1, "2"])"), Strings{"/1 type"});
  EXPECT_EQ(check(v, "[1, 1.0]"), Strings{" uniqueItems"});
  auto objs = make(R"({"uniqueItems": true})");
  EXPECT_FALSE(valid(objs, R"([{"a": 1, "b": 2}, {"b": 2, "a": 1}])"));
  EXPECT_TRUE(valid(objs, R"([{"a": 1}, {"a": 2}, [1], [1, 2]])"));
  auto tuple =
      make(R"({"prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false})");
  EXPECT_TRUE(valid(tuple, R"(["a", 1])"));
  EXPECT_TRUE(valid(tuple, R"(["a"])"));
  EXPECT_EQ(check(tuple, R"(["a", 1, 2])"), Strings{"/2 items"});
  auto c = make(R"({"contains": {"const": 1}, "minContains": 2, "maxContains": 3})");
  EXPECT_FALSE(valid(c, "[1]"));
  EXPECT_TRUE(valid(c, "[1, 2, 1]"));
  EXPECT_FALSE(valid(c, "[1, 1, 1, 1]"));
  auto c0 = make(R"({"contains": {"const": 1}, "minContains": 0})");
  EXPECT_TRUE(valid(c0, "[]"));
  EXPECT_EQ(check(make(R"({"contains": {"type": "string"}})"), "[1]"), Strings{" contains"});
}

TEST(SchemaValidator, Combinators) {
  auto any = make(R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})");
  EXPECT_TRUE(valid(any, "1"));
  EXPECT_EQ(check(any, "true"), Strings{" anyOf"});
  auto one = make(R"({"oneOf": [{"type": "integer"}, {"minimum": 2}]})");
  EXPECT_TRUE(valid(one, "1"));
  EXPECT_TRUE(valid(one, "2.5"));
  EXPECT_EQ(check(one, "3"), Strings{" oneOf"});
  auto all = make(R"({"allOf": [{"type": "integer"}, {"minimum": 2}]})");
  EXPECT_EQ(check(all, "1"), Strings{" minimum"});
  auto no = make(R"({"not": {"type": "string"}})");
  EXPECT_TRUE(valid(no, "1"));
  EXPECT_EQ(check(no, R"("s")"), Strings{" not"});
  auto cond = make(R"({"if": {"properties": {"kind": {"const": "card"}}},
                       "then": {"required": ["number"]}, "else": {"required": ["iban"]}})");
  EXPECT_TRUE(valid(cond, R"({"kind": "card", "number": "1"})"));
  EXPECT_TRUE(valid(cond, R"({"kind": "bank", "iban": "1"})"));
  EXPECT_FALSE(valid(cond, R"({"kind": "card", "iban": "1"})"));
}

TEST(SchemaValidator, RefsToComponentsAndDefsWithRecursion) {
  std::map<std::string, json::value> comps;
  comps["Node"] = json::parse(R"({"type": "object", "required": ["v"],
      "properties": {"v": {"type": "integer"},
                     "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}})");
  auto v = make(R"({"$ref": "#/components/schemas/Node"})", Dialect::kOpenApi30, &comps);
  EXPECT_TRUE(valid(v, R"({"v": 1, "children": [{"v": 2, "children": [{"v": 3}]}]})"));
  std::vector<Violation> out;
  v.validate(json::parse(R"({"v": 1, "children": [{"v": 2, "children": [{"v": "x"}]}]})"),
             Direction::kRequest, &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].instance, "/children/0/children/0/v");
  EXPECT_EQ(out[0].schema, "#/components/schemas/Node/properties/v/type");
  auto defs = make(R"({"$defs": {"pos": {"type": "integer", "minimum": 0}},
                       "properties": {"a": {"$ref": "#/$defs/pos"}, "b": {"$ref": "#"}}})");
  EXPECT_TRUE(valid(defs, R"({"a": 1, "b": {"a": 2, "b": {}}})"));
  EXPECT_FALSE(valid(defs, R"({"b": {"a": -1}})"));
}

TEST(SchemaValidator, RefErrorsAndCycles) {
  auto r =
      Validator::compile(json::parse(R"({"properties": {"a": {"$ref": "#/$defs/none"}}})"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "unresolved_ref");
  EXPECT_EQ(r.error().field, "#/properties/a/$ref");
  EXPECT_FALSE(Validator::compile(json::parse(R"({"$ref": "https://x/y.json"})"), {}).ok());
  std::map<std::string, json::value> comps;
  comps["A"] = json::parse(R"({"$ref": "#/components/schemas/B"})");
  comps["B"] = json::parse(R"({"allOf": [{"$ref": "#/components/schemas/A"}]})");
  CompileOptions o;
  o.components = &comps;
  auto c = Validator::compile(json::parse(R"({"$ref": "#/components/schemas/A"})"), o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, "invalid_schema");
  EXPECT_FALSE(Validator::compile(json::parse(R"({"$ref": "#"})"), {}).ok());
}

TEST(SchemaValidator, RefSiblings30VersusDraft2020) {
  std::map<std::string, json::value> comps;
  comps["S"] = json::parse(R"({"type": "string"})");
  // 3.0: siblings of $ref are ignored; 2020-12: they apply too.
  auto v30 =
      make(R"({"$ref": "#/components/schemas/S", "maxLength": 1})", Dialect::kOpenApi30, &comps);
  EXPECT_TRUE(valid(v30, R"("long")"));
  auto v31 =
      make(R"({"$ref": "#/components/schemas/S", "maxLength": 1})", Dialect::kDraft2020, &comps);
  EXPECT_FALSE(valid(v31, R"("long")"));
}

TEST(SchemaValidator, ReadOnlyWriteOnlyByDirection) {
  auto v = make(R"({"type": "object", "required": ["id", "password", "name"],
      "properties": {"id": {"type": "integer", "readOnly": true},
                     "password": {"type": "string", "writeOnly": true},
                     "name": {"type": "string"}}})",
                Dialect::kOpenApi30);
  // A request need not (and may not) send the readOnly id.
  EXPECT_EQ(check(v, R"({"password": "p", "name": "n"})", Direction::kRequest), Strings{});
  EXPECT_EQ(check(v, R"({"id": 1, "password": "p", "name": "n"})", Direction::kRequest),
            Strings{"/id readOnly"});
  // A response need not (and may not) return the writeOnly password.
  EXPECT_EQ(check(v, R"({"id": 1, "name": "n"})", Direction::kResponse), Strings{});
  EXPECT_EQ(check(v, R"({"name": "n"})", Direction::kResponse), Strings{" required"});
  EXPECT_EQ(check(v, R"({"id": 1, "password": "p", "name": "n"})", Direction::kResponse),
            Strings{"/password writeOnly"});
}

TEST(SchemaValidator, UnevaluatedProperties) {
  auto v = make(R"({
    "allOf": [{"properties": {"a": {}}}],
    "anyOf": [{"properties": {"b": {}}, "required": ["b"]}, {"properties": {"c": {}}}],
    "properties": {"d": {}},
    "unevaluatedProperties": false})");
  EXPECT_TRUE(valid(v, R"({"a": 1, "b": 2, "c": 3, "d": 4})"));
  EXPECT_EQ(check(v, R"({"a": 1, "e": 5})"), Strings{"/e unevaluatedProperties"});
  // A failed branch evaluates nothing: "b" without passing its branch is unevaluated.
  auto f = make(R"({"anyOf": [{"properties": {"b": {"type": "string"}}}, {"required": ["x"]}],
                    "unevaluatedProperties": false})");
  EXPECT_FALSE(valid(f, R"({"b": 1, "x": 1})"));
  EXPECT_TRUE(valid(f, R"({"b": "s"})"));
  // Through $ref, and with if/then.
  auto r = make(R"({"$defs": {"base": {"properties": {"id": {}}}},
                    "$ref": "#/$defs/base", "if": {"properties": {"t": {"const": 1}}},
                    "then": {"properties": {"extra": {}}}, "unevaluatedProperties": false})");
  EXPECT_TRUE(valid(r, R"({"id": 1, "t": 1, "extra": 2})"));
  EXPECT_FALSE(valid(r, R"({"id": 1, "t": 2, "extra": 2})"));
}

TEST(SchemaValidator, UnevaluatedItems) {
  auto v = make(R"({"prefixItems": [{"type": "string"}],
                    "allOf": [{"contains": {"type": "integer"}}],
                    "unevaluatedItems": false})");
  EXPECT_TRUE(valid(v, R"(["a", 1, 2])"));
  EXPECT_EQ(check(v, R"(["a", 1, true])"), Strings{"/2 unevaluatedItems"});
  auto nested =
      make(R"({"allOf": [{"prefixItems": [{}, {}]}], "unevaluatedItems": {"type": "string"}})");
  EXPECT_TRUE(valid(nested, R"([1, 2, "s"])"));
  EXPECT_FALSE(valid(nested, R"([1, 2, 3])"));
}

TEST(SchemaValidator, BooleanSchemas) {
  EXPECT_TRUE(valid(make("true"), R"({"any": 1})"));
  EXPECT_FALSE(valid(make("false"), "1"));
  auto p = make(R"({"properties": {"no": false}})");
  EXPECT_EQ(check(p, R"({"no": 1})"), Strings{"/no false"});
  CompileOptions o;
  o.dialect = Dialect::kOpenApi30;
  EXPECT_FALSE(Validator::compile(json::value(true), o).ok());
}

TEST(SchemaValidator, ErrorCapAndInvalidKeywords) {
  auto v = make(R"({"items": {"type": "string"}})");
  std::vector<Violation> out;
  EXPECT_FALSE(v.validate(json::parse("[1,2,3,4,5,6,7,8,9,10]"), Direction::kRequest, &out, 3));
  EXPECT_EQ(out.size(), 3u);
  for (const char* bad : {R"({"minLength": -1})", R"({"required": "a"})", R"({"type": "int"})",
                          R"({"properties": []})", R"({"allOf": []})", R"({"minimum": "1"})"}) {
    auto r = Validator::compile(json::parse(bad), {});
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, "invalid_schema") << bad;
    }
  }
}

TEST(SchemaValidator, CostlySchemasStop) {
  // Nested anyOf whose branches both recurse: exponential without the step budget.
  auto v = make(R"({"$defs": {"t": {"anyOf": [{"items": {"$ref": "#/$defs/t"}, "minItems": 2},
                                               {"items": {"$ref": "#/$defs/t"}}]}},
                    "$ref": "#/$defs/t"})");
  std::string deep;
  for (int i = 0; i < 60; ++i) deep += "[";
  deep += "1";
  for (int i = 0; i < 60; ++i) deep += "]";
  json::parse_options po;
  po.max_depth = 100;
  std::vector<Violation> out;
  v.validate(json::parse(deep, {}, po), Direction::kRequest, &out);  // returns, whatever the answer
  SUCCEED();
}

TEST(SchemaValidator, JsonEqual) {
  EXPECT_TRUE(json_equal(json::parse("1"), json::parse("1.0")));
  EXPECT_TRUE(json_equal(json::parse(R"({"a": [1, {"b": null}]})"),
                         json::parse(R"({"a": [1.0, {"b": null}]})")));
  EXPECT_FALSE(json_equal(json::parse("[1, 2]"), json::parse("[2, 1]")));
  EXPECT_FALSE(json_equal(json::parse("1"), json::parse("true")));
  EXPECT_TRUE(json_equal(json::parse("18446744073709551615"), json::parse("18446744073709551615")));
  EXPECT_FALSE(json_equal(json::parse("-1"), json::parse("18446744073709551615")));
}

}  // namespace
}  // namespace gatehouse::apim::schema
