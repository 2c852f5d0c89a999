// JWS compact serialization (RFC 7515 section 7.1) as JWTs use it: three
// base64url segments; header and payload are JSON objects. Parsing does not
// verify anything: it only gives the policy what it needs to pick a key.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

namespace gatehouse::policy::jwt {

// Tokens above this are refused before any decoding (headers are bounded
// anyway; this keeps a hostile token from costing more than a few KiB).
inline constexpr size_t kMaxTokenBytes = 16 * 1024;

struct Token {
  std::string_view signing_input;  // "<header>.<payload>", points into the raw token
  std::string signature;           // decoded
  boost::json::object header;
  boost::json::object claims;
  std::string alg;  // header "alg"
  std::string kid;  // header "kid", may be empty
};

// False with `why` (for the problem detail) when the token is malformed.
// Does not throw (Boost.JSON is used through its error_code overloads).
bool parse_token(std::string_view raw, Token& out, std::string& why);

}  // namespace gatehouse::policy::jwt
