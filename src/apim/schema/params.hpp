// Parameter deserialization: the text of a path, query, header or cookie
// parameter -> the JSON value its schema describes, per OpenAPI's
// style/explode rules ("5" -> 5 for an integer, "a,b" -> ["a", "b"] for an
// array with style simple, "id[x]=1" -> {"x": 1} for deepObject).
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "apim/openapi/document.hpp"
#include "common/percent.hpp"

namespace gatehouse::apim::schema {

// How a parameter's value is shaped, read once from its schema (through $ref).
struct ParamShape {
  enum class Kind { kPrimitive, kArray, kObject } kind = Kind::kPrimitive;
  uint8_t types = 0;       // primitive: type bits (detail::TypeBit); 0 = untyped (string)
  uint8_t item_types = 0;  // array items
  std::vector<std::pair<std::string, uint8_t>> properties;  // object: name -> type bits
  uint8_t other_types = 0;                                  // object: additional properties
};

ParamShape shape_of(const openapi::Document& d, const boost::json::value& schema);

// "5" -> 5 when the types allow an integer, "true" -> true for a boolean,
// otherwise the string itself (the validator then names the type mismatch).
boost::json::value coerce(std::string_view text, uint8_t types);

// A raw query split into (name, value) pairs, both still percent-encoded.
std::vector<std::pair<std::string_view, std::string_view>> split_query(std::string_view query);

// A Cookie header split into (name, value) pairs.
std::vector<std::pair<std::string_view, std::string_view>> split_cookies(std::string_view header);

// What a deserialization found: nullopt = the parameter is absent; an error
// text when the raw value does not follow the parameter's style.
struct Deserialized {
  std::optional<boost::json::value> value;
  std::string error;
};

// `raw` is the path segment value (percent-encoded), the header value or
// the cookie value; query parameters read `query` instead.
Deserialized deserialize_path(const openapi::Parameter& p, const ParamShape& s,
                              std::string_view raw);
Deserialized deserialize_query(
    const openapi::Parameter& p, const ParamShape& s,
    const std::vector<std::pair<std::string_view, std::string_view>>& query);
Deserialized deserialize_header(const openapi::Parameter& p, const ParamShape& s,
                                std::string_view value);
Deserialized deserialize_cookie(const openapi::Parameter& p, const ParamShape& s,
                                std::string_view value);

}  // namespace gatehouse::apim::schema
