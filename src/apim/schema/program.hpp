// The compiled form of a schema: a flat vector of nodes referring to each
// other by index, so recursive schemas ($ref back to an ancestor) are
// finite. Internal to src/apim/schema.
#pragma once

#include <re2/re2.h>

#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "apim/schema/validator.hpp"

namespace gatehouse::apim::schema::detail {

// Type bits for `type`.
enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};
constexpr uint8_t kAnyType = 0x7f;

enum class Format : uint8_t {
  kNone,
  kDateTime,
  kDate,
  kTime,
  kEmail,
  kUuid,
  kUri,
  kIpv4,
  kIpv6,
  kHostname,
  kInt32,
  kInt64,
  kFloat,
  kDouble,
};

struct Pattern {
  std::string source;
  std::shared_ptr<const RE2> re;
};

constexpr int kNone = -1;

struct Node {
  std::string path;    // JSON pointer of this schema ("#/components/schemas/Pet")
  bool always = true;  // boolean schema value (only meaningful when is_bool)
  bool is_bool = false;
  uint8_t types = kAnyType;  // `type` (plus null when 3.0 nullable)
  bool has_type = false;
  bool read_only = false, write_only = false;
  // This node has unevaluatedProperties/Items: in-place subschemas report
  // what they evaluated.
  bool collects = false;

  std::vector<boost::json::value> enum_values;
  bool has_enum = false;
  std::optional<boost::json::value> const_value;

  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
  std::optional<double> multiple_of;
  std::optional<int64_t> multiple_of_int;  // exact when both sides are integers

  std::optional<size_t> min_length, max_length;
  std::optional<Pattern> pattern;
  Format format = Format::kNone;
  std::string format_name;

  // arrays
  std::vector<int> prefix_items;
  int items = kNone;  // after prefix_items
  std::optional<size_t> min_items, max_items;
  bool unique_items = false;
  int contains = kNone;
  std::optional<size_t> min_contains, max_contains;
  int unevaluated_items = kNone;

  // objects
  std::vector<std::pair<std::string, int>> properties;  // sorted by name
  std::vector<std::pair<Pattern, int>> pattern_properties;
  int additional_properties = kNone;
  std::vector<std::string> required;
  std::optional<size_t> min_properties, max_properties;
  int property_names = kNone;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, int>> dependent_schemas;
  int unevaluated_properties = kNone;

  // applicators in place
  int ref = kNone;
  std::vector<int> all_of, any_of, one_of;
  int not_ = kNone;
  int if_ = kNone, then_ = kNone, else_ = kNone;
};

struct Program {
  std::vector<Node> nodes;  // nodes[0] is the root
  Dialect dialect = Dialect::kDraft2020;
  bool formats = true;
  // Whether following $ref from a node reaches a value (cycle check).
  const Node& root() const { return nodes[0]; }
};

// Helpers shared by compile.cpp and validate.cpp.
std::string pointer_escape(std::string_view s);
const char* type_name(uint8_t bit);
std::string types_text(uint8_t types);
uint8_t type_of(const boost::json::value& v);  // the most specific bit (integer for 1, 1.0)

}  // namespace gatehouse::apim::schema::detail
