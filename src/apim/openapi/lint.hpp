// `gatehouse openapi lint`: rules in the spirit of Spectral's `oas` ruleset,
// each with an id, a severity and a location (JSON pointer, and line:column
// when the source is YAML).
#pragma once

#include <string>
#include <vector>

#include "apim/openapi/diff.hpp"
#include "apim/openapi/document.hpp"
#include "apim/openapi/source.hpp"

namespace gatehouse::apim::openapi {

struct Finding {
  std::string rule;
  Level severity = Level::kWarning;
  std::string pointer;
  int line = 0;
  int column = 0;
  std::string message;
};

// `source` (the root file as parsed) gives positions and the raw `info`;
// may be null.
std::vector<Finding> lint(const Document& d, const SourceDoc* source);

// A subset of JSON Schema for example checks: type (3.0 nullable and 3.1
// type lists), enum, const, required, properties, items, minimum/maximum,
// minLength/maxLength, minItems/maxItems. Returns the first violation, "" when
// none; `$ref`s are followed through the document's schemas.
std::string check_example(const Document& d, const boost::json::value& schema,
                          const boost::json::value& value, const std::string& at = "");

}  // namespace gatehouse::apim::openapi
