// Origin validation of an MCP endpoint (Streamable HTTP: servers MUST check
// Origin against DNS rebinding). An Origin is allowed when the operator
// listed it (`mcp.allowed_origins`, "*" = any) or when it is the endpoint's
// own origin on a loopback name: a rebinding page's Origin (and Host) is the
// attacker's name, never localhost, so a same-origin loopback request cannot
// come from one. Pure; the route answers 403 otherwise.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::mcp {

bool origin_allowed(const std::vector<std::string>& allowed, std::string_view origin,
                    std::string_view host);

}  // namespace gatehouse::mcp
