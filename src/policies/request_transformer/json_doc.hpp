// A small JSON document model for body transforms. Boost.JSON does the
// parsing (validation, UTF-8, depth limit); we keep our own tree because
// boost::json::value re-prints numbers (19.99 as 1.999E1, big integers
// rounded, 1e400 as Infinity): here a number keeps the exact text it was
// sent with, and object members keep their order and duplicates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace gatehouse::policy {

struct JsonMember;

struct JsonNode {
  enum class Kind : unsigned char { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;                  // a number's lexeme, or a string's decoded value
  std::vector<JsonNode> items;       // array elements
  std::vector<JsonMember> members;   // object members, in order

  static JsonNode null();
  static JsonNode from_bool(bool b);
  static JsonNode number(std::string lexeme);  // caller checked it is a JSON number
  static JsonNode string(std::string s);
  static JsonNode array();
  static JsonNode object();

  bool is_object() const { return kind == Kind::kObject; }
  bool is_array() const { return kind == Kind::kArray; }
  // The first member of that name, or null.
  JsonNode* find(std::string_view key);
  // Erases every member of that name; true when one was there.
  bool erase(std::string_view key);
};

struct JsonMember {
  std::string key;  // decoded
  JsonNode value;
};

// Nesting deeper than this is refused (also bounds the printer's recursion).
constexpr size_t kMaxJsonDepth = 64;

// Parses one JSON text (RFC 8259; no comments, no trailing commas). Errors
// are "invalid_json" with the byte offset in the message.
Result<JsonNode> parse_json(std::string_view text);

// Compact output (no insignificant whitespace), strings escaped minimally.
void print_json(const JsonNode& n, std::string& out);

// True when `s` is a JSON number (RFC 8259 section 6).
bool is_json_number(std::string_view s);

}  // namespace gatehouse::policy
