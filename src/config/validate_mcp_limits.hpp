// The rules of an MCP route's `tools.limits` (per-tool rate limits and
// quotas), apart from validate_mcp.cpp so that file only calls in.
#pragma once

#include <functional>
#include <string>

#include "config/entities.hpp"

namespace gatehouse::config {

// Reports each problem of `route.mcp->tool_limits` through `error` (the
// field path is `field` + "[i]...": "routes[0].mcp.tools.limits").
using LimitErrorFn = std::function<void(const SourcePos& fallback, const std::string& field,
                                        std::string code, std::string message)>;
void check_mcp_tool_limits(const RouteConfig& route, const std::string& field,
                           const LimitErrorFn& error);

}  // namespace gatehouse::config
