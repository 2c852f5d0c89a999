// The deprecated HTTP+SSE transport (MCP 2024-11-05) on an MCP route, beside
// Streamable HTTP on the same endpoint: a GET without a session opens the
// stream (first event `endpoint`: where to POST, with `?sessionId=`), and
// each POST to that URL is answered 202 while its answer, and whatever the
// upstreams send for it, goes on the stream. The handler is the same virtual
// server as for Streamable HTTP; only the transport differs.
#pragma once

#include <string>

#include "mcp/server/handler.hpp"
#include "proxy/mcp_downstream.hpp"

namespace gatehouse::proxy {

// The stream, until the client closes it; then the session is forgotten and
// its upstream sessions closed. `rq` carries the route, caller and worker.
awaitable<bool> serve_mcp_legacy_stream(McpDownstream& down, mcp::Request& rq,
                                        const std::string& path, mcp::Outcome& out);

// One message of session `id` (rq.msg parsed, caller set).
awaitable<bool> serve_mcp_legacy_message(McpDownstream& down, mcp::Request& rq,
                                         const std::string& id, mcp::Outcome& out);

}  // namespace gatehouse::proxy
