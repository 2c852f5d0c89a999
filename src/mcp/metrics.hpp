// MCP metrics per server and tool: calls, errors, latency. Tool names are
// only known at run time, so families are created on first use; each worker
// keeps its own pointer cache, so the registry mutex is taken once per
// (worker, server, tool), never per call.
#pragma once

#include <string>

#include "common/metrics.hpp"

namespace gatehouse::mcp {

struct alignas(64) McpShard {
  metrics::Counter calls;
  metrics::Counter errors;  // JSON-RPC errors, isError results and upstream failures
  metrics::Histogram latency;
  metrics::Counter limited;  // tools/call refused by a tool limit (never sent upstream)
};

// `method` is tools/call, resources/read, prompts/get...; `name` the tool,
// URI or prompt (as the upstream knows it).
McpShard& mcp_shard(const std::string& server, const std::string& method, const std::string& name,
                    size_t worker, size_t workers);

std::string render_metrics();

}  // namespace gatehouse::mcp
