// JSON Schema validation for OpenAPI: a schema (a JSON value) is compiled
// once into an immutable Validator, which then checks instances without
// allocating beyond the violations it reports. Two dialects: OpenAPI 3.0
// schema objects (also used for Swagger 2.0) and OpenAPI 3.1 / JSON Schema
// 2020-12. Pure library: no I/O, no globals; safe to share across threads.
#pragma once

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::apim::schema {

enum class Dialect {
  kOpenApi30,  // nullable, boolean exclusiveMinimum/Maximum, single `type`, $ref replaces siblings
  kDraft2020,  // OpenAPI 3.1: type lists, const, prefixItems, unevaluated*, boolean schemas
};

// readOnly properties may not be sent in requests; writeOnly ones are not
// returned in responses. Required-ness is relaxed the same way.
enum class Direction { kRequest, kResponse };

struct Violation {
  std::string instance;  // JSON pointer into the instance: "/items/0/id" ("" = the root)
  std::string schema;    // JSON pointer of the failing keyword in the schema document
  std::string keyword;   // "type", "required", "format", ...
  std::string message;   // precise, human-readable
};

struct CompileOptions {
  Dialect dialect = Dialect::kDraft2020;
  // Targets of "$ref": "#/components/schemas/NAME" (the Document's schemas).
  const std::map<std::string, boost::json::value>* components = nullptr;
  // `format` asserts (date-time, email, uuid, int32, ...); unknown formats pass.
  bool formats = true;
  // Where the root schema lives, for keyword locations ("/paths/~1pets/get/...").
  std::string base = "#";
};

namespace detail {
struct Program;
}

class Validator {
 public:
  // Errors (code invalid_schema or unresolved_ref, field = schema pointer)
  // for a schema that cannot be used: wrong keyword types, bad regex, a $ref
  // to nothing, a $ref cycle that never reaches a value.
  static Result<Validator> compile(const boost::json::value& schema, const CompileOptions& options);

  // True when the instance is valid. Appends at most `max_errors`
  // violations to `out` (when not null); validation stops at the cap.
  bool validate(const boost::json::value& instance, Direction direction,
                std::vector<Violation>* out = nullptr, size_t max_errors = 16) const;

  // The root node's type when it is a single type ("integer", "array", ...;
  // "" otherwise): parameter deserialization uses it.
  const std::shared_ptr<const detail::Program>& program() const { return program_; }

 private:
  std::shared_ptr<const detail::Program> program_;
};

// JSON equality as JSON Schema defines it: 1 == 1.0, object key order ignored.
bool json_equal(const boost::json::value& a, const boost::json::value& b);

// `format` checks, exposed for tests and for parameter coercion.
bool check_format(std::string_view format, const boost::json::value& v, bool* known = nullptr);

// Length in Unicode code points of UTF-8 text.
size_t code_points(std::string_view s);

}  // namespace gatehouse::apim::schema
