// libFuzzer target: the JSON Schema compiler and validator, and parameter
// deserialization. Input: a schema (JSON) and an instance, separated by the
// first "\n--\n"; after a second separator, a raw query string checked
// against the schema as a query parameter of every style. Any schema must
// compile or fail with an Error, any instance validate in bounded time,
// never crash. Seeds live in fuzz/corpus/schema/.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "apim/schema/params.hpp"
#include "apim/schema/request_validator.hpp"
#include "apim/schema/validator.hpp"

namespace json = boost::json;
namespace schema = gatehouse::apim::schema;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t sep = text.find("\n--\n");
  std::string_view s_text = text.substr(0, sep);
  std::string_view rest = sep == std::string_view::npos ? std::string_view{} : text.substr(sep + 4);
  size_t sep2 = rest.find("\n--\n");
  std::string_view i_text = rest.substr(0, sep2);
  std::string_view query =
      sep2 == std::string_view::npos ? std::string_view{} : rest.substr(sep2 + 4);
  json::parse_options po;
  po.max_depth = 64;
  json::error_code ec;
  json::value s = json::parse(s_text, ec, {}, po);
  if (ec) return 0;
  json::value inst = json::parse(i_text, ec, {}, po);
  if (ec) inst = json::value(std::string(i_text));
  std::map<std::string, json::value> components{{"Self", s}};
  for (auto d : {schema::Dialect::kOpenApi30, schema::Dialect::kDraft2020}) {
    schema::CompileOptions o;
    o.dialect = d;
    o.components = &components;
    auto v = schema::Validator::compile(s, o);
    if (!v) continue;
    std::vector<schema::Violation> out;
    bool ok = v->validate(inst, schema::Direction::kRequest, &out, 8);
    if (ok != out.empty() || out.size() > 8) __builtin_trap();
    // Quiet validation must agree with the reporting one.
    if (v->validate(inst, schema::Direction::kRequest) != ok) __builtin_trap();
  }
  // Parameters: the same schema as a query/path/header parameter of each style.
  gatehouse::apim::openapi::Document doc;
  doc.schemas = components;
  gatehouse::apim::openapi::Parameter p;
  p.name = "p";
  p.schema = s;
  auto shape = schema::shape_of(doc, s);
  auto pairs = schema::split_query(query);
  for (const char* style :
       {"form", "spaceDelimited", "pipeDelimited", "deepObject", "simple", "label", "matrix"}) {
    for (bool explode : {false, true}) {
      p.style = style;
      p.explode = explode;
      (void)schema::deserialize_query(p, shape, pairs);
      (void)schema::deserialize_path(p, shape, query);
      (void)schema::deserialize_header(p, shape, query);
      (void)schema::deserialize_cookie(p, shape, query);
    }
  }
  (void)schema::split_cookies(query);
  return 0;
}
