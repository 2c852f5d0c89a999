#include "apim/mock/generate.hpp"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <set>

#include "apim/mock/pattern.hpp"

namespace gatehouse::apim::mock {
namespace {

namespace json = boost::json;

openapi::Document doc_with(std::string_view schemas_json) {
  openapi::Document d;
  json::value schemas = json::parse(schemas_json);
  for (const auto& kv : schemas.as_object()) d.schemas[kv.key()] = kv.value();
  return d;
}

json::value gen(const openapi::Document& d, std::string_view schema, bool dynamic = false,
                uint64_t seed = 7) {
  GenerateOptions o;
  o.dynamic = dynamic;
  o.seed = seed;
  return generate(d, json::parse(schema), o);
}

TEST(Generate, Formats) {
  openapi::Document d;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto dt = gen(d, R"({"type":"string","format":"date-time"})", false, seed);
    EXPECT_TRUE(RE2::FullMatch(std::string(dt.as_string()),
                               R"(20[2-9]\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\dZ)"))
        << dt;
    auto uuid = gen(d, R"({"type":"string","format":"uuid"})", false, seed);
    EXPECT_TRUE(RE2::FullMatch(std::string(uuid.as_string()),
                               "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))
        << uuid;
    auto email = gen(d, R"({"type":"string","format":"email"})", false, seed);
    EXPECT_TRUE(RE2::FullMatch(std::string(email.as_string()), R"([a-z]+\d*@example\.com)"));
    auto date = gen(d, R"({"type":"string","format":"date"})", false, seed);
    EXPECT_TRUE(RE2::FullMatch(std::string(date.as_string()), R"(\d{4}-\d{2}-\d{2})"));
    auto uri = gen(d, R"({"type":"string","format":"uri"})", false, seed);
    EXPECT_TRUE(uri.as_string().starts_with("https://"));
    auto ip = gen(d, R"({"type":"string","format":"ipv4"})", false, seed);
    EXPECT_TRUE(RE2::FullMatch(std::string(ip.as_string()), R"(192\.0\.2\.\d+)"));
    auto i32 = gen(d, R"({"type":"integer","format":"int32","minimum":-5})", true, seed);
    EXPECT_TRUE(i32.is_int64());
    EXPECT_GE(i32.as_int64(), -5);
  }
}

TEST(Generate, NumbersHonourBounds) {
  openapi::Document d;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    auto i = gen(d, R"({"type":"integer","minimum":10,"maximum":20,"exclusiveMaximum":true})",
                 true, seed);
    EXPECT_GE(i.as_int64(), 10);
    EXPECT_LT(i.as_int64(), 20);
    auto i31 = gen(d, R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":3})", true, seed);
    EXPECT_TRUE(i31.as_int64() == 1 || i31.as_int64() == 2) << i31;
    auto m = gen(d, R"({"type":"integer","minimum":1,"maximum":100,"multipleOf":7})", true, seed);
    EXPECT_EQ(m.as_int64() % 7, 0);
    EXPECT_GE(m.as_int64(), 7);
    auto n = gen(d, R"({"type":"number","minimum":0.5,"maximum":0.75})", true, seed);
    EXPECT_GE(n.to_number<double>(), 0.5);
    EXPECT_LE(n.to_number<double>(), 0.75);
    auto neg = gen(d, R"({"type":"integer","maximum":-100})", true, seed);
    EXPECT_LE(neg.as_int64(), -100);
  }
}

TEST(Generate, StringsHonourLengthsEnumsConstAndPatterns) {
  openapi::Document d;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    auto s = gen(d, R"({"type":"string","minLength":30,"maxLength":32})", true, seed);
    EXPECT_GE(s.as_string().size(), 30u);
    EXPECT_LE(s.as_string().size(), 32u);
    auto tiny = gen(d, R"({"type":"string","maxLength":2})", true, seed);
    EXPECT_LE(tiny.as_string().size(), 2u);
    auto e = gen(d, R"({"type":"string","enum":["a","b","c"]})", true, seed);
    EXPECT_TRUE(e == "a" || e == "b" || e == "c");
    EXPECT_EQ(gen(d, R"({"const":42})", true, seed), 42);
    for (const char* p : {R"(^[A-Z]{2}-\d{4}$)", R"(^(foo|bar)+_[a-f0-9]{2,5}$)",
                          R"(^\w+@\w+\.(com|org)$)", R"(^[^a-z]{3}x?$)", R"(^a.c\.d$)"}) {
      std::string schema = "{\"type\":\"string\",\"pattern\":" + json::serialize(json::value(p)) + "}";
      auto v = gen(d, schema, true, seed);
      EXPECT_TRUE(RE2::PartialMatch(std::string(v.as_string()), p)) << p << " -> " << v;
    }
  }
  // Static mode: the first enum value; an unsupported pattern: the placeholder.
  EXPECT_EQ(gen(d, R"({"type":"string","enum":["x","y"]})"), "x");
  EXPECT_EQ(gen(d, R"({"type":"string","pattern":"^(a)\\1$"})"), "string");
}

TEST(Generate, ExamplesAndDefaultsOnlyWhenStatic) {
  openapi::Document d;
  const char* s = R"({"type":"object","properties":{
      "a":{"type":"string","example":"from-example"},
      "b":{"type":"integer","default":5},
      "c":{"type":"string","examples":["first","second"]}}})";
  auto stat = gen(d, s);
  EXPECT_EQ(stat.at("a"), "from-example");
  EXPECT_EQ(stat.at("b"), 5);
  EXPECT_EQ(stat.at("c"), "first");
  bool differs = false;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    auto dyn = gen(d, R"({"type":"string","example":"from-example"})", true, seed);
    differs = differs || dyn != "from-example";
  }
  EXPECT_TRUE(differs);
}

TEST(Generate, RequiredOptionalReadWriteOnly) {
  openapi::Document d;
  const char* s = R"({"type":"object","required":["id"],"properties":{
      "id":{"type":"integer","readOnly":true},
      "pw":{"type":"string","writeOnly":true},
      "opt":{"type":"string"}}})";
  auto stat = gen(d, s);
  EXPECT_TRUE(stat.as_object().contains("id"));
  EXPECT_TRUE(stat.as_object().contains("opt"));
  EXPECT_FALSE(stat.as_object().contains("pw"));
  GenerateOptions req;
  req.response = false;
  auto request = generate(d, json::parse(s), req);
  EXPECT_FALSE(request.as_object().contains("id"));
  EXPECT_TRUE(request.as_object().contains("pw"));
  bool left_out = false;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    auto dyn = gen(d, s, true, seed);
    EXPECT_TRUE(dyn.as_object().contains("id"));
    left_out = left_out || !dyn.as_object().contains("opt");
  }
  EXPECT_TRUE(left_out) << "dynamic mode always filled the optional property";
}

TEST(Generate, CompositionNullableAndTypeArrays) {
  auto d = doc_with(R"({
    "Base":{"type":"object","required":["id"],"properties":{"id":{"type":"integer","minimum":1}}},
    "Cat":{"type":"object","required":["meow"],"properties":{"meow":{"type":"boolean"}}},
    "Dog":{"type":"object","required":["bark"],"properties":{"bark":{"type":"string"}}}})");
  auto all = gen(d, R"({"allOf":[{"$ref":"#/components/schemas/Base"},
      {"properties":{"name":{"type":"string"}},"required":["name"]}]})");
  EXPECT_TRUE(all.as_object().contains("id"));
  EXPECT_TRUE(all.as_object().contains("name"));
  EXPECT_GE(all.at("id").as_int64(), 1);
  auto one = gen(d, R"({"oneOf":[{"$ref":"#/components/schemas/Cat"},{"$ref":"#/components/schemas/Dog"}]})");
  EXPECT_TRUE(one.as_object().contains("meow"));
  std::set<std::string> seen;
  bool null_seen = false;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    auto v = gen(d, R"({"anyOf":[{"$ref":"#/components/schemas/Cat"},{"$ref":"#/components/schemas/Dog"}]})",
                 true, seed);
    seen.insert(v.as_object().contains("meow") ? "cat" : "dog");
    auto n = gen(d, R"({"type":["string","null"]})", true, seed);
    EXPECT_TRUE(n.is_null() || n.is_string());
    null_seen = null_seen || n.is_null();
    auto n30 = gen(d, R"({"type":"integer","nullable":true})", true, seed);
    EXPECT_TRUE(n30.is_null() || n30.is_int64());
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(null_seen);
  EXPECT_TRUE(gen(d, R"({"type":["string","null"]})").is_string());  // static: not null
}

TEST(Generate, RecursionIsBounded) {
  auto d = doc_with(R"({"Node":{"type":"object","required":["name","children","parent"],
      "properties":{"name":{"type":"string"},
                    "children":{"type":"array","minItems":1,"items":{"$ref":"#/components/schemas/Node"}},
                    "parent":{"$ref":"#/components/schemas/Node"},
                    "next":{"$ref":"#/components/schemas/Node"}}}})");
  for (bool dynamic : {false, true}) {
    auto v = gen(d, R"({"$ref":"#/components/schemas/Node"})", dynamic);
    std::string text = json::serialize(v);
    EXPECT_LT(text.size(), 20'000u) << text.substr(0, 200);
    EXPECT_TRUE(v.as_object().contains("children"));
  }
}

TEST(Generate, ArraysMapsAndUniqueItems) {
  openapi::Document d;
  auto a = gen(d, R"({"type":"array","minItems":3,"maxItems":3,"items":{"type":"integer"}})");
  EXPECT_EQ(a.as_array().size(), 3u);
  auto u = gen(d, R"({"type":"array","minItems":2,"uniqueItems":true,"items":{"type":"boolean"}})", true);
  ASSERT_EQ(u.as_array().size(), 2u);
  EXPECT_NE(u.as_array()[0], u.as_array()[1]);
  auto tuple = gen(d, R"({"type":"array","prefixItems":[{"const":"x"},{"type":"integer"}],"items":false})");
  ASSERT_EQ(tuple.as_array().size(), 2u);
  EXPECT_EQ(tuple.as_array()[0], "x");
  auto map = gen(d, R"({"type":"object","additionalProperties":{"type":"integer"}})");
  EXPECT_TRUE(map.at("additionalProp1").is_int64());
  auto big = gen(d, R"({"type":"array","minItems":0,"maxItems":100000,
      "items":{"type":"array","minItems":50,"items":{"type":"array","minItems":50,"items":{"type":"string"}}}})");
  EXPECT_LT(json::serialize(big).size(), 500'000u);
}

TEST(Pattern, SubsetAndRefusals) {
  Rng rng(3);
  Draw draw = [&](uint64_t n) { return rng.below(n); };
  EXPECT_EQ(string_for_pattern("^abc$", draw), "abc");
  EXPECT_TRUE(string_for_pattern("[0-9]{3}-[a-z]{2,4}", draw));
  EXPECT_TRUE(string_for_pattern("(?:ab|cd){2}", draw));
  EXPECT_FALSE(string_for_pattern("(?=a)b", draw));      // lookahead
  EXPECT_FALSE(string_for_pattern("\\p{L}+", draw));     // classes by property
  EXPECT_FALSE(string_for_pattern("[unterminated", draw));
  EXPECT_FALSE(string_for_pattern("a{5,2}", draw));
  EXPECT_FALSE(string_for_pattern("é+", draw));  // non-ASCII: refused, not mangled
}

}  // namespace
}  // namespace gatehouse::apim::mock
