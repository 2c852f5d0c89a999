// The node-wide MCP thread: one io_context on its own thread holding every
// upstream MCP client (stdio children, streamable-HTTP sessions). Workers
// never lock: they post Ops here and await the Call (upstream/call.hpp).
// Started on first use, so `gatehouse check` and config validation never
// spawn a child process.
#pragma once

#include <memory>
#include <string>

#include "config/entities.hpp"
#include "mcp/upstream/call.hpp"

namespace gatehouse::mcp {

// Worker side: runs `op` against the server `cfg` describes (the upstream is
// created on first use and replaced when its config changed).
std::shared_ptr<Call> submit(const config::McpServerConfig& cfg, Op op,
                             asio::any_io_executor worker);

// Control thread, after a reload: stops upstreams whose server is gone from
// (or changed in) `cfg`. A no-op when the MCP thread never started.
void retain(const config::McpConfig& cfg);

// Process end: stops every upstream (children are terminated and reaped)
// and joins the MCP thread.
void shutdown();

}  // namespace gatehouse::mcp
