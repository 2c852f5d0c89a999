// Percent-decoding (RFC 3986 section 2.1; `+` as space only for
// application/x-www-form-urlencoded data), in the two forms the code needs:
// lenient for matching and policies (a malformed escape is kept as written,
// like nginx's $arg_ handling) and strict where the input is parsed as data
// and a bad escape must be an error. One implementation for every module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse {

// 0-15 for a hex digit, -1 otherwise.
inline int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool is_hex_digit(char c) {
  return hex_digit_value(c) >= 0;
}

// Decodes %XX escapes (and `+` when plus_as_space); a `%` not followed by two
// hex digits is kept literally.
std::string percent_decode(std::string_view s, bool plus_as_space);
// The same into `out` (cleared first), so a caller can reuse one buffer.
void percent_decode_into(std::string_view s, bool plus_as_space, std::string& out);
// percent_decode(s, plus_as_space) == want, without building the decoded
// string (the router compares query names and values on every request).
bool percent_decoded_equals(std::string_view s, std::string_view want, bool plus_as_space);

// As percent_decode, but a malformed escape (or, with reject_nul, %00) makes
// the whole input invalid: nullopt.
std::optional<std::string> percent_decode_strict(std::string_view s, bool plus_as_space,
                                                 bool reject_nul = false);

}  // namespace gatehouse
