// Query-string helpers for policies (application/x-www-form-urlencoded rules).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/percent.hpp"

namespace gatehouse::policy {

// Percent-encodes everything but RFC 3986 unreserved characters (space is
// %20, never '+', which some servers do not decode); also right for
// application/x-www-form-urlencoded values.
std::string percent_encode(std::string_view s);
// First value of `name` (names and values percent-decoded for comparison).
std::optional<std::string> query_param(std::string_view query, std::string_view name);
// The query without every `name=...` pair (other pairs kept byte for byte).
std::string remove_query_param(std::string_view query, std::string_view name);

}  // namespace gatehouse::policy
