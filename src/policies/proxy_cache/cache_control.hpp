// Parsing what RFC 9111 says a shared cache must read: Cache-Control
// directives (response and request) and HTTP dates (Expires, Date).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "net/http1/parser.hpp"

namespace gatehouse::policy {

struct CacheControl {
  bool no_store = false;
  bool no_cache = false;   // also the qualified form no-cache="field"
  bool is_private = false; // also private="field"
  bool is_public = false;
  bool must_revalidate = false;
  std::optional<int64_t> max_age;   // seconds; an invalid value counts as 0 (stale)
  std::optional<int64_t> s_maxage;
};

// All Cache-Control fields of `headers`, as one list (RFC 9110 5.3).
// Unknown directives are ignored; names are case-insensitive.
CacheControl parse_cache_control(const std::vector<http1::Header>& headers);

// IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to Unix seconds; nullopt
// when it is not one (RFC 9111 5.3: an invalid Expires means already stale).
std::optional<int64_t> parse_http_date(std::string_view s);

}  // namespace gatehouse::policy
