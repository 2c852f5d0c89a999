// REST-to-MCP tool calls as internal requests (internal_call.hpp): the
// MCP route hands its handler this sender, bound to the caller.
#pragma once

#include "mcp/server/handler.hpp"

namespace gatehouse::proxy {

struct Exchange;
class Session;

// Sends a tool call's request through the gateway, routed by the MCP
// request's own Host, for the consumer the MCP route identified (only when a
// credential identified it: an anonymous caller stays anonymous), from the
// MCP client's address and TLS facts. Holds copies only: a legacy (HTTP+SSE)
// message may still be calling after its POST was answered.
mcp::RestSend rest_sender(Session& s, const Exchange& ex);

}  // namespace gatehouse::proxy
