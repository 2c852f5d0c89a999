// mcp route `tools.limits` (per-tool rate limits and quotas), read apart
// from loader.cpp so the loader only calls in. Only the shape is read here;
// the rules are checked in validate_mcp_limits.cpp (on a Config, as every
// semantic rule).
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

// `s` is one item of routes[i].mcp.tools.limits.
McpToolLimitConfig parse_mcp_tool_limit(Reader& r, const Slot& s);

}  // namespace gatehouse::config::detail
