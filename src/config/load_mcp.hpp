// Reading the MCP parts of the config (load_mcp.cpp); private to the loader.
#pragma once

#include "config/loader_reader.hpp"

namespace gatehouse::config::detail {

void parse_mcp(Reader& r, const Slot& s, McpConfig& out);
RouteMcpConfig parse_route_mcp(Reader& r, const Slot& s);

}  // namespace gatehouse::config::detail
