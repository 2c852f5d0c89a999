// libFuzzer target: REST-to-MCP argument handling. The input is a tools/call
// `arguments` object; for every operation of a fixed document the request
// built from it must keep to its path template (arguments never add path
// segments, queries or headers lines), and the tool result of the input as a
// response body must always be a valid CallToolResult shape.
// Seeds live in fuzz/corpus/mcp_openapi_tools/.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "apim/openapi/loader.hpp"
#include "mcp/openapi_tools/tools.hpp"

using namespace gatehouse;
using namespace gatehouse::mcp::openapi_tools;

#define CHECK(cond)       \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

namespace {
constexpr std::string_view kSpec = R"(openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a/{x}/b/{y}:
    post:
      operationId: op
      parameters:
        - {name: x, in: path, required: true, schema: {type: string}}
        - {name: y, in: path, required: true, schema: {type: integer}}
        - {name: q, in: query, schema: {type: array, items: {type: string}}}
        - {name: H, in: header, schema: {type: string}}
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
)";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto doc = apim::openapi::load_document(kSpec, "fuzz.yaml");
  CHECK(doc.ok());
  std::string_view text(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (!ec && v.is_object()) {
    std::string error;
    for (const auto& op : doc->operations) {
      auto call = build_call(op, "/base", v.as_object(), error);
      if (!call) {
        CHECK(!error.empty());
        continue;
      }
      std::string_view t = call->target;
      CHECK(t.starts_with("/base/a/"));
      std::string_view path = t.substr(0, t.find('?'));
      CHECK(std::count(path.begin(), path.end(), '/') == 5);  // /base/a/X/b/Y
      for (const auto& [k, val] : call->headers)
        CHECK(val.find_first_of("\r\n") == std::string::npos);
    }
  }
  auto r = to_result(static_cast<int>(size % 600), "application/json", text);
  CHECK(r.at("content").as_array().size() == 1);
  return 0;
}
