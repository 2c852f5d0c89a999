// libFuzzer target: REST-to-MCP argument handling. The input is a tools/call
// `arguments` object; for every operation of a fixed document the request
// built from it must keep to its path template (arguments never add path
// segments, dot-segments, queries or headers lines), a form body is only
// encoded pairs, and the tool result of the input as a response body (plain
// or a problem document) must always be a valid CallToolResult shape.
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
  /form/{x}:
    put:
      operationId: form
      parameters:
        - {name: x, in: path, required: true, schema: {type: string}}
      requestBody: {content: {application/x-www-form-urlencoded: {schema: {type: object}}}}
      responses: {"200": {description: ok}}
)";

bool form_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '%' || c == '=' || c == '&';
}
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
      std::string_view path = t.substr(0, t.find('?'));
      if (op.operation_id == "form") {
        CHECK(path.starts_with("/base/form/"));
        CHECK(std::count(path.begin(), path.end(), '/') == 3);  // /base/form/X
        CHECK(std::all_of(call->body.begin(), call->body.end(), form_char));
      } else {
        CHECK(t.starts_with("/base/a/"));
        CHECK(std::count(path.begin(), path.end(), '/') == 5);  // /base/a/X/b/Y
      }
      for (size_t at = 0; at != std::string_view::npos;) {
        size_t next = path.find('/', at + 1);
        std::string_view seg =
            path.substr(at + 1, next == std::string_view::npos ? next : next - at - 1);
        CHECK(seg != "." && seg != "..");
        at = next;
      }
      for (const auto& [k, val] : call->headers)
        CHECK(val.find_first_of("\r\n") == std::string::npos);
    }
  }
  auto r = to_result(static_cast<int>(size % 600), "application/json", text);
  CHECK(r.at("content").as_array().size() == 1);
  HttpAnswer a;
  a.status = 400 + static_cast<int>(size % 200);
  a.content_type = "application/problem+json";
  a.retry_after = size % 2 ? "1" : "";
  a.body = std::string(text);
  r = answer_result(a, size % 3 == 0);
  CHECK(r.at("content").as_array().size() == 1);
  CHECK(r.at("isError").as_bool());
  return 0;
}
