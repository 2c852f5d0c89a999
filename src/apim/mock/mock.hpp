// The mock's decisions, Stoplight Prism's way: which response (status), which
// media type (Accept), which body (named example, example, schema sample,
// generated data) and which headers. Pure: a document, an operation and a
// few request facts in; a response or a precise error out. The proxy side
// (src/proxy/mock_route.cpp) and the CLI (`gatehouse mock`) only carry bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apim/openapi/document.hpp"
#include "common/result.hpp"

namespace gatehouse::apim::mock {

// What a client asked for with `Prefer: code=404, example=cat, dynamic=true`
// (RFC 7240 syntax) or Prism's query spelling `?__code=404&__example=cat`.
struct Prefer {
  std::optional<int> code;
  std::string example;
  std::optional<bool> dynamic;
};

// Unknown preferences are ignored (RFC 7240 4); a malformed value of one we
// know is an error (400 invalid_prefer) naming it.
Result<Prefer> parse_prefer(std::string_view header);
// `__code`, `__example`, `__dynamic` in a query string, over `p`.
Result<void> apply_query_preferences(std::string_view query, Prefer& p);

struct MockRequest {
  std::string_view accept;  // empty: the client sent none
  Prefer prefer;
  bool dynamic = false;  // the route's default; prefer.dynamic overrides it
  // Seeds the generated data. Static mode: derive it from the request
  // (request_seed) so the same request gets the same answer; dynamic mode:
  // a fresh value per request.
  uint64_t seed = 0;
};

struct MockResponse {
  int status = 200;
  std::string content_type;  // empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // How the body was made, for the access log: "example:NAME", "example",
  // "schema-example", "generated", "dynamic" or "empty".
  std::string source;
};

// Errors carry the HTTP status and a code for problem+json:
//   404 mock_status_not_defined  Prefer code=N with no such response (nor default)
//   404 mock_example_not_found   Prefer example=NAME that the media type lacks
//   406 not_acceptable           no response media type fits Accept
//   500 mock_no_response         the operation defines no 2xx (nor default) response
Result<MockResponse> respond(const openapi::Document& d, const openapi::Operation& op,
                             const MockRequest& r);

// The static-mode seed of a request: its method, path and query.
uint64_t request_seed(std::string_view method, std::string_view path, std::string_view query);

// The response `respond` would pick for a status preference (or none):
// exact code, then its range ("4XX"), then "default". Null when none.
const openapi::Response* find_response(const openapi::Operation& op, std::optional<int> code,
                                       int* status);

}  // namespace gatehouse::apim::mock
