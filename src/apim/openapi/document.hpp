// The normalised OpenAPI model: what Swagger 2.0, OpenAPI 3.0 and 3.1
// documents have in common, in one shape, so import, diff and lint are
// written once. Schemas stay JSON values (JSON Schema is open-ended);
// references between schemas stay "$ref": "#/components/schemas/NAME" so a
// recursive schema is a finite value (see README.md).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace gatehouse::apim::openapi {

enum class SpecVersion { kSwagger2, kOpenApi30, kOpenApi31 };
std::string_view spec_version_name(SpecVersion v);

struct Server {
  std::string url;  // variables substituted with their defaults
  std::string description;
};

struct Parameter {
  std::string name;
  std::string in;  // path, query, header, cookie
  bool required = false;
  bool deprecated = false;
  boost::json::value schema;  // null when the parameter has none (content-only)
  std::string pointer;        // where it was written (after $ref resolution)
  // Serialization (OpenAPI 3 style/explode with the defaults for `in`
  // applied; Swagger 2.0 collectionFormat mapped onto them, tsv as
  // "tabDelimited"). `content_type` is set when the value is described by
  // `content` instead (e.g. a JSON-encoded query parameter); `schema` then
  // holds that media type's schema.
  std::string style;  // simple, form, label, matrix, deepObject, pipeDelimited, spaceDelimited
  bool explode = false;
  std::string content_type;
};

struct MediaType {
  std::string type;  // "application/json"
  boost::json::value schema;
  boost::json::value example;    // null when none
  boost::json::object examples;  // name -> example object
};

struct RequestBody {
  bool required = false;
  std::vector<MediaType> content;
  std::string pointer;
};

// A response header as declared: what the mock needs to set it.
struct HeaderSpec {
  std::string name;
  bool required = false;
  boost::json::value schema;   // null when none
  boost::json::value example;  // `example`, else the first of `examples`; null when none
};

struct Response {
  std::string status;  // "200", "4XX", "default"
  std::string description;
  std::vector<MediaType> content;
  std::vector<std::string> headers;
  std::vector<HeaderSpec> header_specs;  // same order as `headers`
};

// One alternative of a security requirement: every scheme named must pass.
// An empty alternative means "no authentication" is acceptable.
struct SecurityAlternative {
  std::vector<std::pair<std::string, std::vector<std::string>>> schemes;  // name -> scopes
};

struct Operation {
  std::string method;  // upper case
  std::string path;    // as written in the document: "/pets/{petId}"
  std::string operation_id;
  std::string summary;
  std::vector<std::string> tags;
  bool deprecated = false;
  std::vector<Parameter> parameters;  // path-item parameters merged in
  std::optional<RequestBody> request_body;
  std::vector<Response> responses;
  // nullopt: the document-level requirement applies.
  std::optional<std::vector<SecurityAlternative>> security;
  std::vector<Server> servers;     // operation or path-item servers; empty = document's
  boost::json::object extensions;  // x-* of the path item, then the operation's (which win)
  std::string pointer;             // "/paths/~1pets~1{petId}/get"
};

struct SecurityScheme {
  std::string name;
  std::string type;            // apiKey, http, oauth2, openIdConnect, mutualTLS
  std::string in;              // apiKey: header, query, cookie
  std::string parameter_name;  // apiKey: the header/query/cookie name
  std::string scheme;          // http: basic, bearer, ...
  std::string bearer_format;   // http bearer: "JWT"
  std::string open_id_connect_url;
  boost::json::value flows;  // oauth2
  boost::json::object extensions;
};

struct Document {
  SpecVersion version = SpecVersion::kOpenApi30;
  std::string spec_version;  // as written: "2.0", "3.0.3", "3.1.0"
  std::string title;
  std::string api_version;  // info.version
  std::vector<Server> servers;
  std::vector<Operation> operations;                  // document order; methods in kMethods order
  std::map<std::string, boost::json::value> schemas;  // components/schemas (+ imported)
  std::map<std::string, SecurityScheme> security_schemes;
  std::vector<SecurityAlternative> security;  // document-level
  boost::json::object extensions;             // root x-*
  std::vector<std::string> warnings;          // things accepted but not fully understood
};

// The security an operation ends up with (its own, else the document's).
const std::vector<SecurityAlternative>& effective_security(const Document& d, const Operation& op);

// Follows "$ref": "#/components/schemas/NAME" chains inside `d.schemas`
// (at most a few hops; a dangling or cyclic chain returns the last value).
const boost::json::value& resolve_schema(const Document& d, const boost::json::value& schema);

}  // namespace gatehouse::apim::openapi
