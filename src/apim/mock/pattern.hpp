// Strings that match a regular expression, for `pattern` in schemas. Only a
// subset is understood (see README.md); anything else is refused so the
// generator can fall back to its placeholder instead of lying.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::apim::mock {

// Draws a number in [0, n); n > 0.
using Draw = std::function<uint64_t(uint64_t n)>;

// A string the pattern matches (JSON Schema semantics: unanchored search,
// so the result is checked with RE2 PartialMatch), or nullopt when the
// pattern uses something outside the subset or the check fails.
std::optional<std::string> string_for_pattern(std::string_view pattern, const Draw& draw);

}  // namespace gatehouse::apim::mock
