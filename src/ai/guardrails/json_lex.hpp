// A byte-level view of JSON text for masking inside tool-call arguments:
// which bytes are inside a string literal and which belong to a bare number,
// carried across pieces of a streamed document. No parsing, no allocation
// beyond the class string: a mask must be placed before the JSON is complete.
#pragma once

#include <string>
#include <string_view>

namespace gatehouse::ai::guardrails {

// Where JSON text stands at a byte: inside a string literal, after a backslash.
struct JsonLex {
  bool in_string = false;
  bool escape = false;  // the byte before was a backslash
  int hex = 0;          // \u digits still to come
  bool in_number = false;  // the byte before belongs to a bare number
};
// One byte class per byte of `text` read from state `st` (advanced to the
// end): 's' string content, 'e' part of an escape sequence (the backslash,
// the escaped byte, \u's digits), 'n' a number's byte outside strings, ' '
// anything else (quotes, structure, whitespace, literals).
void json_classes(std::string_view text, JsonLex& st, std::string& cls);
enum class JsonFit { kString, kNumber, kStructure };
// Whether [b, e) lies inside one string without touching an escape sequence,
// is exactly one bare number, or neither (cannot be masked without breaking
// the JSON).
JsonFit json_fit(std::string_view cls, size_t b, size_t e);

}  // namespace gatehouse::ai::guardrails
