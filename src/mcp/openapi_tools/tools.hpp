// REST to MCP: the operations of an OpenAPI document as MCP tools. Pure
// functions (no I/O): the tool definitions a tools/list shows, the HTTP
// request a tools/call becomes, and the tool result an HTTP response
// becomes. The caller finds the document (apim::SpecSet) and sends the
// request through the API's upstream.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apim/openapi/document.hpp"

namespace gatehouse::mcp::openapi_tools {

namespace json = boost::json;
namespace oa = apim::openapi;

struct Tool {
  std::string name;
  const oa::Operation* operation = nullptr;
  json::object definition;  // {name, description, inputSchema[, outputSchema]}
};

struct Options {
  std::vector<std::string> operations;  // operationIds to expose; empty = all
};

// One tool per operation. Fails (error set, empty result) when a listed
// operationId is not in the document or two operations end up with one
// tool name.
std::vector<Tool> build_tools(const oa::Document& d, const Options& o, std::string& error);

// operationId when it is a valid tool name, else "<method>_<path>" with
// every other character as '_' (GET /pets/{id} -> get_pets_id); at most 128.
std::string tool_name(const oa::Operation& op);

// The tool's inputSchema: an object with one property per parameter (path,
// query, header; cookies are not sent) and `body` for the request body (its
// schema for JSON and form bodies, a string for text/*);
// component schemas the properties refer to are copied into `$defs` and
// the references rewritten to "#/$defs/NAME".
json::object input_schema(const oa::Document& d, const oa::Operation& op);

struct HttpCall {
  std::string method;
  std::string target;  // base path + path (parameters substituted, percent-encoded) + query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // in the operation's media type, with its Content-Type when not empty
};

// The request body's media type a call is sent in: the first JSON one, else
// application/x-www-form-urlencoded, else the first text/* one; null when the
// operation offers none of these (a call with a body is then refused).
const oa::MediaType* body_media(const oa::RequestBody& b);

// `body` as application/x-www-form-urlencoded: an object whose members are
// scalars or arrays of scalars (arrays repeat the name, as OpenAPI's default
// form/explode style does). Anything else is an error naming the member.
std::optional<std::string> form_encode(const json::value& body, std::string& error);

// The request for a tools/call with `arguments`. A missing required
// parameter or body, or a body the media type cannot carry, is an error
// naming it (the caller answers -32602).
std::optional<HttpCall> build_call(const oa::Operation& op, std::string_view base_path,
                                   const json::object& arguments, std::string& error);

// RFC 3986 unreserved characters stay, everything else is %XX.
std::string percent_encode(std::string_view s);

// The tool's outputSchema: the JSON schema of the operation's 2xx answer
// when it is an object (a root component reference inlined, the rest copied
// into `$defs`, OpenAPI 3.0 `nullable` written as a "null" type); empty when
// there is none, it is not an object, or two 2xx answers differ.
json::object output_schema(const oa::Document& d, const oa::Operation& op);

// A CallToolResult for an HTTP response: the body as text content, plus
// structuredContent when it is a JSON object; isError for a non-2xx status,
// and for a 2xx without a JSON object when `structured` (the tool has an
// outputSchema, so clients expect structuredContent).
json::object to_result(int status, std::string_view content_type, std::string_view body,
                       bool structured = false);

// What the API answered a call: a response, or a transport failure (`error`).
struct HttpAnswer {
  int status = 0;
  std::string content_type;
  std::string retry_after;  // Retry-After of a refusal (429, 503), for the tool error's text
  std::string body;
  std::string error;
};

// The CallToolResult for `a` (an answer, not a transport failure). A
// refusal by the gateway route's policies (401, 403, 429 problem+json) is a
// tool error naming the status, the problem's code and detail.
json::object answer_result(const HttpAnswer& a, bool structured);

}  // namespace gatehouse::mcp::openapi_tools
